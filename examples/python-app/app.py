#!/usr/bin/env python3
"""A Python CDK app using cdk-fast-autoscaler: a Fargate service behind an ALB, scaled within
seconds of a surge. It builds the same stack as the TypeScript typical app; the test suite
synthesizes both and checks that their templates are equal (test/packaging/python-app.sh)."""
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_fast_autoscaler import FastAutoscaler, ScalingMetric, ScalingPolicy


class TypicalStack(Stack):
    """A Fargate web service behind an internet-facing ALB, wrapped by a FastAutoscaler."""

    def __init__(self, scope: Construct, construct_id: str, *, max_tasks: int = 50, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)

        vpc = ec2.Vpc(self, "Vpc", max_azs=2, nat_gateways=1)
        cluster = ecs.Cluster(self, "Cluster", vpc=vpc)
        task_definition = ecs.FargateTaskDefinition(self, "Task", cpu=256, memory_limit_mib=512)
        task_definition.add_container(
            "app",
            image=ecs.ContainerImage.from_registry("public.ecr.aws/docker/library/httpd:2.4"),
            port_mappings=[ecs.PortMapping(container_port=80)],
        )
        # desired_count is left unset: the autoscaler owns it.
        service = ecs.FargateService(self, "Web", cluster=cluster, task_definition=task_definition)
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

        # Send traffic through the proxy: that is what the autoscaler measures.
        alb = elbv2.ApplicationLoadBalancer(self, "Alb", vpc=vpc, internet_facing=True)
        listener = alb.add_listener("Http", port=80)
        listener.add_targets("Web", port=80, targets=[autoscaler.load_balancer_target])


if __name__ == "__main__":
    app = App()
    TypicalStack(app, "Typical", env=Environment(account="123456789012", region="eu-west-1"))
    app.synth()
