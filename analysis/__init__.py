"""Pure psychometric analysis: classical test theory, IRT, information, equating, DIF.

No database, web or document imports here (see docs/ARCHITECTURE.md). Arrays and frozen
dataclasses in, arrays and frozen dataclasses out; the logistic constant ``D`` is explicit
everywhere and stored in every result.

Modules
-------
responses    ResponseData: sparse observed responses (missing by design)
parameters   ItemParameters: a/b/c + thresholds + D for rasch/1pl/2pl/3pl/grm/gpcm/pcm
information  probabilities, item/test information, expected scores (3PL kernels + any model)
polytomous   GRM / GPCM kernels on plain arrays
quadrature   Quadrature rules for the latent distribution
calibration  calibrate(): MML-EM item calibration (observed-information SEs), fixed-parameter
             calibration, identification checks; method="cml" dispatches to cml
cml          conditional ML for the Rasch model and the PCM (elementary symmetric functions)
results      CalibrationResult, ParameterErrors, Priors, statuses
covariance   ParameterCovariance: the covariance matrix of the estimates, a/b/c scale
fit          item_fit() (infit/outfit, mean-square and t), andersen_lr_test()
scoring      score_persons() (EAP/MAP/ML/WLE), summed_score_table(), invert_tcc()
linking      link_scales() (mean/mean, mean/sigma, Stocking-Lord, Haebara), transforms
equating     linear, equipercentile (log-linear presmoothing), IRT true-score equating
dif          mantel_haenszel_dif() with ETS A/B/C classes
ctt          analyse_form(), reliability() (alpha, standardised alpha, lambda-6 as psych::alpha),
             cronbach_alpha(), item_rest_correlations(), analyse_distractors(), CttThresholds
errors       AnalysisError and subclasses
"""

from analysis.calibration import calibrate
from analysis.covariance import ParameterCovariance
from analysis.ctt import (
    CttThresholds,
    DistractorAnalysis,
    FormStatistics,
    ItemStatistics,
    Reliability,
    analyse_distractors,
    analyse_form,
    cronbach_alpha,
    item_rest_correlations,
    reliability,
)
from analysis.fit import ItemFit, LikelihoodRatioTest, andersen_lr_test, item_fit, median_split
from analysis.results import (
    STATUS_CONVERGED,
    STATUS_NOT_CONVERGED,
    STATUS_NOT_IDENTIFIED,
    CalibrationResult,
    ParameterErrors,
    Priors,
)
from analysis.dif import DifResult, classify_ets, mantel_haenszel_dif
from analysis.equating import (
    EquatingResult,
    equate_equipercentile,
    equate_irt_true_score,
    equate_linear,
    loglinear_smooth,
    score_frequencies,
)
from analysis.errors import (
    AnalysisError,
    InsufficientDataError,
    InvalidInputError,
)
from analysis.information import (
    category_probabilities,
    expected_item_scores,
    expected_score,
    expected_score_3pl,
    item_information,
    item_information_3pl,
    probability_3pl,
    test_information,
    test_information_3pl,
)
from analysis.linking import LinkingConstants, link_scales, transform_parameters, transform_thetas
from analysis.parameters import MODELS, ItemParameters
from analysis.quadrature import Quadrature, gauss_hermite_quadrature, rectangular_quadrature
from analysis.responses import ResponseData
from analysis.scoring import (
    PersonScores,
    ScoreTable,
    invert_tcc,
    score_distribution,
    score_persons,
    summed_score_table,
)

__all__ = [
    "MODELS",
    "STATUS_CONVERGED",
    "STATUS_NOT_CONVERGED",
    "STATUS_NOT_IDENTIFIED",
    "ItemFit",
    "LikelihoodRatioTest",
    "ParameterCovariance",
    "Reliability",
    "andersen_lr_test",
    "item_fit",
    "item_rest_correlations",
    "median_split",
    "reliability",
    "AnalysisError",
    "CalibrationResult",
    "CttThresholds",
    "DifResult",
    "DistractorAnalysis",
    "EquatingResult",
    "FormStatistics",
    "InsufficientDataError",
    "InvalidInputError",
    "ItemParameters",
    "ItemStatistics",
    "LinkingConstants",
    "ParameterErrors",
    "PersonScores",
    "Priors",
    "Quadrature",
    "ResponseData",
    "ScoreTable",
    "analyse_distractors",
    "analyse_form",
    "calibrate",
    "category_probabilities",
    "classify_ets",
    "cronbach_alpha",
    "equate_equipercentile",
    "equate_irt_true_score",
    "equate_linear",
    "expected_item_scores",
    "expected_score",
    "expected_score_3pl",
    "gauss_hermite_quadrature",
    "invert_tcc",
    "item_information",
    "item_information_3pl",
    "link_scales",
    "loglinear_smooth",
    "mantel_haenszel_dif",
    "probability_3pl",
    "rectangular_quadrature",
    "score_distribution",
    "score_frequencies",
    "score_persons",
    "summed_score_table",
    "test_information",
    "test_information_3pl",
    "transform_parameters",
    "transform_thetas",
]
