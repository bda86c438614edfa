import { installLoopbackGuard } from './aws-loopback';

installLoopbackGuard();
