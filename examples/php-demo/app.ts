import { AwsSolutionsChecks } from 'cdk-nag';
import { appFailingOnFindings, checkOnEverySynth } from './nag-on-synth';
import { PhpDemoStack } from './php-demo-stack';

const app = appFailingOnFindings();
new PhpDemoStack(app, 'FastAutoscalerPhpDemo');
// Every synth checks the AwsSolutions pack: an unacknowledged finding fails `cdk synth`.
checkOnEverySynth(app, new AwsSolutionsChecks());
app.synth();
