import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PhpDemoStack } from './php-demo-stack';

const app = new App();
new PhpDemoStack(app, 'FastAutoscalerPhpDemo');
// Every synth checks the AwsSolutions pack: an unacknowledged finding fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
