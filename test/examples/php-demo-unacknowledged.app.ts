// examples/php-demo/app.ts with one finding that nobody acknowledged: `cdk synth` must fail on it.
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { appFailingOnFindings, checkOnEverySynth } from '../../examples/php-demo/nag-on-synth';
import { PhpDemoStack } from '../../examples/php-demo/php-demo-stack';

const app = appFailingOnFindings();
const stack = new PhpDemoStack(app, 'FastAutoscalerPhpDemo');
// A topic that does not enforce SSL: AwsSolutions-SNS3.
new sns.Topic(stack, 'Unacknowledged');
checkOnEverySynth(app, new AwsSolutionsChecks());
app.synth();
