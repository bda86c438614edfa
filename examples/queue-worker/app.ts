import { AwsSolutionsChecks } from 'cdk-nag';
import { QueueWorkerStack } from './queue-worker-stack';
import { appFailingOnFindings, checkOnEverySynth } from '../php-demo/nag-on-synth';

const app = appFailingOnFindings();
new QueueWorkerStack(app, 'FastAutoscalerQueueWorker');
// Every synth checks the AwsSolutions pack: an unacknowledged finding fails `cdk synth`.
checkOnEverySynth(app, new AwsSolutionsChecks());
app.synth();
