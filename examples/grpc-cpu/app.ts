import { AwsSolutionsChecks } from 'cdk-nag';
import { GrpcCpuStack } from './grpc-cpu-stack';
import { appFailingOnFindings, checkOnEverySynth } from '../php-demo/nag-on-synth';

const app = appFailingOnFindings();
new GrpcCpuStack(app, 'FastAutoscalerGrpcCpu');
// Every synth checks the AwsSolutions pack: an unacknowledged finding fails `cdk synth`.
checkOnEverySynth(app, new AwsSolutionsChecks());
app.synth();
