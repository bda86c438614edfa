#!/usr/bin/env python3
"""A Python CDK app using cdk-fast-autoscaler: a Fargate service behind an ALB, scaled within
seconds of a surge. Two stacks: Typical (the props most users pass) and Tuned (a step policy,
a faster interval, scale-in, an alarm action, a dashboard). They build the same stacks as the
TypeScript app test/packaging/typical-app.ts; the test suite synthesizes both apps and checks
that their templates are equal (test/packaging/python-app.sh)."""
from aws_cdk import App, Duration, Environment, Size, Stack
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from cdk_fast_autoscaler import FastAutoscaler, MetricSource, ScalingMetric, ScalingPolicy, ScalingStep


def fargate_service(scope: Construct) -> ecs.FargateService:
    """A Fargate web service (Apache httpd on port 80) in a new VPC."""
    vpc = ec2.Vpc(scope, "Vpc", max_azs=2, nat_gateways=1)
    cluster = ecs.Cluster(scope, "Cluster", vpc=vpc)
    task_definition = ecs.FargateTaskDefinition(scope, "Task", cpu=256, memory_limit_mib=512)
    task_definition.add_container(
        "app",
        image=ecs.ContainerImage.from_registry("public.ecr.aws/docker/library/httpd:2.4"),
        port_mappings=[ecs.PortMapping(container_port=80)],
    )
    # desired_count is left unset: the autoscaler owns it.
    return ecs.FargateService(scope, "Web", cluster=cluster, task_definition=task_definition)


def behind_alb(scope: Construct, service: ecs.FargateService, autoscaler: FastAutoscaler) -> None:
    """Sends traffic through the proxy: that is what the autoscaler measures."""
    alb = elbv2.ApplicationLoadBalancer(scope, "Alb", vpc=service.cluster.vpc, internet_facing=True)
    listener = alb.add_listener("Http", port=80)
    listener.add_targets("Web", port=80, targets=[autoscaler.load_balancer_target])


class TypicalStack(Stack):
    """A Fargate web service behind an internet-facing ALB, wrapped by a FastAutoscaler."""

    def __init__(self, scope: Construct, construct_id: str, *, max_tasks: int = 50, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        service = fargate_service(self)
        topic = sns.Topic(self, "Topic")

        autoscaler = FastAutoscaler(
            self,
            "Autoscaler",
            service=service,
            policy=ScalingPolicy.target_tracking(metric=ScalingMetric.ACTIVE_CONNECTIONS, target_per_task=100),
            min_tasks=2,
            max_tasks=max_tasks,
            topic=topic,  # optional: a message on every scaling action
        )
        behind_alb(self, service, autoscaler)


class TunedStack(Stack):
    """The same service, with fixed tiers of requests per second, a 5-second interval, scale-in
    after 10 quiet minutes, the alarms sent to a topic and a dashboard."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        service = fargate_service(self)
        topic = sns.Topic(self, "Topic")

        autoscaler = FastAutoscaler(
            self,
            "Autoscaler",
            service=service,
            policy=ScalingPolicy.steps(
                metric=ScalingMetric.REQUESTS_PER_SECOND,
                steps=[
                    ScalingStep(threshold=50, desired_tasks=4),
                    ScalingStep(threshold=200, desired_tasks=12),
                ],
            ),
            min_tasks=2,
            max_tasks=20,
            max_scale_out_step=5,
            interval=Duration.seconds(5),
            disable_scale_in=False,
            scale_in_window=Duration.minutes(10),
            metric_source=MetricSource.nginx_proxy(max_request_body_size=Size.mebibytes(10), timeout=Duration.minutes(10)),
            topic=topic,
            alarm_action=cw_actions.SnsAction(topic),
            create_dashboard=True,
            log_retention=logs.RetentionDays.ONE_WEEK,
            state_machine_log_level=sfn.LogLevel.ALL,
        )
        behind_alb(self, service, autoscaler)


if __name__ == "__main__":
    app = App()
    env = Environment(account="123456789012", region="eu-west-1")
    TypicalStack(app, "Typical", env=env)
    TunedStack(app, "Tuned", env=env)
    app.synth()
