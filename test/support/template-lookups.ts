import { Match, Template } from 'aws-cdk-lib/assertions';
import { LOOP_CONFIG_ENV } from '../../src/controller/loop-config';

/** A synthesized template: the assertions' `Template`, or its JSON. */
export type SynthesizedTemplate = Template | { readonly Resources?: Record<string, any> };

/**
 * What tells the controller function from the template's other functions (the load generator,
 * custom resources): the loop's configuration in its environment. For `hasResourceProperties`.
 */
export const CONTROLLER_FUNCTION_PROPS = { Environment: { Variables: { [LOOP_CONFIG_ENV]: Match.anyValue() } } };

function resourcesOf(template: SynthesizedTemplate): any[] {
  const json = template instanceof Template ? template.toJSON() : template;
  return Object.values(json.Resources ?? {});
}

/** The controller function's resource: the (first) Lambda function whose environment holds the loop's configuration. */
export function controllerFunction(template: SynthesizedTemplate): any {
  const fn = resourcesOf(template).find(r => r.Type === 'AWS::Lambda::Function' && r.Properties?.Environment?.Variables?.[LOOP_CONFIG_ENV] != null);
  if (!fn) throw new Error('the template holds no controller function (no Lambda function with the loop\'s configuration)');
  return fn;
}

/** The loop's state machine resource (the template's first). */
export function stateMachine(template: SynthesizedTemplate): any {
  const machine = resourcesOf(template).find(r => r.Type === 'AWS::StepFunctions::StateMachine');
  if (!machine) throw new Error('the template holds no state machine');
  return machine;
}

/**
 * A string value of the template as text: a plain string as it is, an `Fn::Join`'s parts
 * joined with every reference (or other intrinsic) as `placeholder` says, 'REF' by default.
 */
export function placeholderText(value: any, placeholder: (intrinsic: any) => string = () => 'REF'): string {
  if (typeof value === 'string') return value;
  return value['Fn::Join'][1].map((part: unknown) => (typeof part === 'string' ? part : placeholder(part))).join('');
}

/** The state machine's definition, parsed: the partition as 'PARTITION', every other reference as 'REF'. */
export function stateMachineDefinition(template: SynthesizedTemplate): any {
  const partition = (p: any) => (p.Ref === 'AWS::Partition' ? 'PARTITION' : 'REF');
  return JSON.parse(placeholderText(stateMachine(template).Properties.DefinitionString, partition));
}
