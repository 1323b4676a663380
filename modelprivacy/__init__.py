"""modelprivacy: model stealing attacks and defenses under the Model Privacy framework.

References
----------
G. Wang, Y. Yang and J. Ding, "Model Privacy: A Unified Framework for
Understanding Model Stealing Attacks and Defenses", JRSS-B (2026),
arXiv:2502.15567.
"""

__version__ = "0.1.0"
