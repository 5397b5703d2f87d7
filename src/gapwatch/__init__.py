"""gapwatch: NHS health-inequalities reporting.

Not whether the averages improve, but whether the gaps close.
"""

__version__ = "0.1.0"
