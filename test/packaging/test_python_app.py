"""Runs against examples/python-app with our wheel installed: bad props raise a Python
exception that carries the TypeScript message word for word.
Needs FAST_AUTOSCALER_BAD_PROPS_MESSAGE: the file holding the TypeScript message."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python-app"))

from aws_cdk import App, Environment  # noqa: E402
from app import TypicalStack  # noqa: E402


class BadPropsTest(unittest.TestCase):
    def test_max_tasks_zero_raises_the_typescript_message(self):
        with open(os.environ["FAST_AUTOSCALER_BAD_PROPS_MESSAGE"], encoding="utf-8") as f:
            expected = f.read()
        self.assertIn("`maxTasks` must be a whole number from 1 to 5000, got 0", expected)
        app = App()
        env = Environment(account="123456789012", region="eu-west-1")
        with self.assertRaises(RuntimeError) as raised:
            TypicalStack(app, "Typical", env=env, max_tasks=0)
        self.assertEqual(str(raised.exception), expected)


if __name__ == "__main__":
    unittest.main()
