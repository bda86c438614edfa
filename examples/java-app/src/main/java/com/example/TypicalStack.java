package com.example;

import io.github.cdkfastautoscaler.FastAutoscaler;
import io.github.cdkfastautoscaler.ScalingMetric;
import io.github.cdkfastautoscaler.ScalingPolicy;
import io.github.cdkfastautoscaler.TargetTrackingPolicyProps;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.services.ecs.FargateService;
import software.amazon.awscdk.services.sns.Topic;
import software.constructs.Construct;

/** A Fargate web service behind an internet-facing ALB, wrapped by a FastAutoscaler. */
public class TypicalStack extends Stack {
    public TypicalStack(final Construct scope, final String id, final StackProps props, final int maxTasks) {
        super(scope, id, props);
        FargateService service = WebService.fargateService(this);
        Topic topic = new Topic(this, "Topic");

        FastAutoscaler autoscaler = FastAutoscaler.Builder.create(this, "Autoscaler")
                .service(service)
                .policy(ScalingPolicy.targetTracking(TargetTrackingPolicyProps.builder()
                        .metric(ScalingMetric.ACTIVE_CONNECTIONS)
                        .targetPerTask(100)
                        .build()))
                .minTasks(2)
                .maxTasks(maxTasks)
                .topic(topic) // optional: a message on every scaling action
                .build();
        WebService.behindAlb(this, service, autoscaler);
    }
}
