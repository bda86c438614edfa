import * as path from 'path';
import { App, AppProps, CfnElement, IPolicyValidationContext, IPolicyValidationPlugin, PolicyValidationPluginReport, Stack, Validations } from 'aws-cdk-lib';
import { NagPack } from 'cdk-nag';

/**
 * Makes every synth of an app run a cdk-nag pack and fail on an unacknowledged finding, also
 * under the CDK CLI (`cdk synth`, `cdk deploy`). Two gaps between cdk-nag 3 and the peer floor
 * aws-cdk-lib 2.257 are bridged here; both made the pack silently do nothing:
 *
 * - cdk-nag 3 reads the construct tree from `context.appConstruct`, which aws-cdk-lib 2.257 does
 *   not give validation plugins: registered as it is, the pack fails ("NagPack requires a
 *   construct tree on the validation context") before checking anything. `NagOnSynth` gives the
 *   pack the app itself (`validateScope`, cdk-nag's entry point for such CDK versions).
 * - The CLI tells the app not to fail on validation errors (context
 *   `@aws-cdk/core:failSynthOnValidationErrors: false`) because it reads the report itself, from
 *   `validation-report.json`; aws-cdk-lib 2.257 writes `policy-validation-report.json`, which the
 *   CLI does not read, so the synth passed whatever the report said. `appFailingOnFindings`
 *   gives the app that context back with precedence over the CLI's (`postCliContext`): the app
 *   prints the report and exits non-zero, and `cdk synth` fails.
 */
export function appFailingOnFindings(props: AppProps = {}): App {
  return new App({ ...props, postCliContext: { ...props.postCliContext, [FAIL_SYNTH_ON_VALIDATION_ERRORS]: true } });
}

const FAIL_SYNTH_ON_VALIDATION_ERRORS = '@aws-cdk/core:failSynthOnValidationErrors';

/** A policy-validation plugin that runs a cdk-nag pack over the whole app once it is synthesized. */
export class NagOnSynth implements IPolicyValidationPlugin {
  public readonly name: string;
  public readonly version?: string;
  public readonly ruleIds?: string[];

  constructor(private readonly app: App, private readonly pack: NagPack) {
    this.name = pack.name;
    this.version = pack.version;
    this.ruleIds = pack.ruleIds;
  }

  public validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const report = this.pack.validateScope(this.app);
    // cdk-nag names the construct; the report also shows the logical id and the template.
    const elements = new Map(this.app.node.findAll().filter(CfnElement.isCfnElement).map(e => [e.node.path, e]));
    const violations = report.violations.map(v => ({
      ...v,
      violatingResources: v.violatingResources.map(r => {
        const element = r.constructPath ? elements.get(r.constructPath) : undefined;
        if (!element) return r;
        const stack = Stack.of(element);
        return {
          ...r,
          resourceLogicalId: r.resourceLogicalId ?? stack.resolve(element.logicalId),
          templatePath: r.templatePath ?? context.templatePaths.find(p => path.basename(p) === stack.templateFile),
        };
      }),
    }));
    return { ...report, violations };
  }
}

/** Registers a cdk-nag pack on an app made by `appFailingOnFindings`. */
export function checkOnEverySynth(app: App, pack: NagPack): void {
  Validations.of(app).addPlugins(new NagOnSynth(app, pack));
}
