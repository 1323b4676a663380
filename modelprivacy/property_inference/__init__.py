"""Confidential property inference (CPI): shadow-model attacks, a responsive attacker and an arms-race defense.

A firm that shares a trained model can leak aggregate facts about its
private training data (the default rate of its loan book, the share of
women among its customers) to a recipient who runs a property-inference
attack. This subpackage implements the attacks (meta-classifiers on white-
and black-box features, Suri and Evans' loss and threshold tests), the
leakage metrics (accuracy against chance with intervals, n_leaked),
non-adaptive defenses (output noise, parameter noise, property unlearning),
the *responsive* attacker that reruns a known defense on its shadows, and an
attack-defense arms race with an approximate strategy (warm starts and one
Newton step), on scikit-learn models, torch-free.

The arms race and the responsive attacker are *inspired by* Yang, Xu,
Zhang and Fang, "Secure Confidential Business Information When Sharing
Machine Learning Models" (arXiv:2509.16352), whose full text was not
available; the algorithm is a reconstruction from its abstract
(``neighbours.md`` Part B), not the paper's.

Modules
-------
``datasets``     UCI Adult and German Credit (vendored), exact-property sampler, synthetic credit, bins
``models``       logistic-regression and MLP families, white- and black-box features, ModelSet
``attacks``      MetaClassifierAttack, LossTest, ThresholdTest, ResponsiveAttack
``defenses``     OutputNoise, ParameterNoise, PropertyUnlearning, PoolPenaltyDefense
``approximate``  Newton / influence step with its error bound, approximate fits
``arms_race``    ArmsRace, a round game of the engine; evaluate a finished race
``experiments``  CPIExperiment spec, run_experiment
``metrics``      attack accuracy with Wilson interval, n_leaked, ECE, utility report
"""

from .approximate import approximate_fits, exact_fits, hessian_lipschitz_bound, newton_error_bound, newton_step
from .arms_race import ArmsRace, ArmsRaceState, evaluate
from .attacks import LossTest, MetaClassifierAttack, MetaNet, ResponsiveAttack, ThresholdTest
from .datasets import (PropertySampler, SyntheticCredit, TabularData, assign_bins, bin_values, load_adult,
                       load_dataset, load_german_credit, make_bins, split_pool)
from .defenses import Defense, OutputNoise, ParameterNoise, PoolPenaltyDefense, PropertyUnlearning
from .experiments import ATTACKS, CPIExperiment, run_experiment
from .metrics import (AttackAccuracy, attack_accuracy, expected_calibration_error, n_leaked, optimal_test_accuracy,
                      utility_report)
from .models import LogisticFamily, MLPFamily, ModelSet, family_of

__all__ = [
    "TabularData", "load_adult", "load_german_credit", "load_dataset", "split_pool", "PropertySampler",
    "SyntheticCredit", "make_bins", "assign_bins", "bin_values",
    "LogisticFamily", "MLPFamily", "ModelSet", "family_of",
    "MetaClassifierAttack", "LossTest", "ThresholdTest", "ResponsiveAttack", "MetaNet",
    "Defense", "OutputNoise", "ParameterNoise", "PropertyUnlearning", "PoolPenaltyDefense",
    "newton_step", "hessian_lipschitz_bound", "newton_error_bound", "approximate_fits", "exact_fits",
    "ArmsRace", "ArmsRaceState", "evaluate",
    "CPIExperiment", "run_experiment", "ATTACKS",
    "AttackAccuracy", "attack_accuracy", "n_leaked", "optimal_test_accuracy", "expected_calibration_error",
    "utility_report",
]
