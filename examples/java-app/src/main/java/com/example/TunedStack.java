package com.example;

import io.github.cdkfastautoscaler.FastAutoscaler;
import io.github.cdkfastautoscaler.MetricSource;
import io.github.cdkfastautoscaler.NginxProxySourceOptions;
import io.github.cdkfastautoscaler.ScalingMetric;
import io.github.cdkfastautoscaler.ScalingPolicy;
import io.github.cdkfastautoscaler.ScalingStep;
import io.github.cdkfastautoscaler.StepPolicyProps;
import java.util.List;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.Size;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.services.cloudwatch.actions.SnsAction;
import software.amazon.awscdk.services.ecs.FargateService;
import software.amazon.awscdk.services.logs.RetentionDays;
import software.amazon.awscdk.services.sns.Topic;
import software.amazon.awscdk.services.stepfunctions.LogLevel;
import software.constructs.Construct;

/**
 * The same service, with fixed tiers of requests per second, a 5-second interval, scale-in
 * after 10 quiet minutes, the alarms sent to a topic and a dashboard.
 */
public class TunedStack extends Stack {
    public TunedStack(final Construct scope, final String id, final StackProps props) {
        super(scope, id, props);
        FargateService service = WebService.fargateService(this);
        Topic topic = new Topic(this, "Topic");

        FastAutoscaler autoscaler = FastAutoscaler.Builder.create(this, "Autoscaler")
                .service(service)
                .policy(ScalingPolicy.steps(StepPolicyProps.builder()
                        .metric(ScalingMetric.REQUESTS_PER_SECOND)
                        .steps(List.of(
                                ScalingStep.builder().threshold(50).desiredTasks(4).build(),
                                ScalingStep.builder().threshold(200).desiredTasks(12).build()))
                        .build()))
                .minTasks(2)
                .maxTasks(20)
                .maxScaleOutStep(5)
                .interval(Duration.seconds(5))
                .disableScaleIn(false)
                .scaleInWindow(Duration.minutes(10))
                .metricSource(MetricSource.nginxProxy(NginxProxySourceOptions.builder()
                        .maxRequestBodySize(Size.mebibytes(10))
                        .timeout(Duration.minutes(10))
                        .build()))
                .topic(topic)
                .alarmAction(new SnsAction(topic))
                .createDashboard(true)
                .logRetention(RetentionDays.ONE_WEEK)
                .stateMachineLogLevel(LogLevel.ALL)
                .build();
        WebService.behindAlb(this, service, autoscaler);
    }
}
