"""Campaign measurement: judge every campaign against a control group, and by customer type.

From planning to readout, one module per step:

* :mod:`~crmlab.campaign.design`: :func:`plan` and :func:`holdout` size a test before it runs
  (sample size per arm, minimum detectable effect, power, how large the no-contact holdout
  must be); :func:`srm_check` tests the arm sizes against the intended split;
* :mod:`~crmlab.campaign.readout`: :func:`measure` reads out a randomised test: sample-ratio
  check first, then per arm and outcome the rate or mean, absolute and relative lift with
  confidence intervals, a two-proportion z-test (binary outcomes) or Welch's t-test (amounts),
  multiple-testing corrected p-values and, with a pre-period covariate, CUPED variance
  reduction; :mod:`~crmlab.campaign.moments` holds the sufficient statistics and tests;
* :mod:`~crmlab.campaign.segments`: :func:`segment_effects` splits the lift by customer type
  (RFM segment, new vs existing, channel) with a test of whether the effect really differs, so
  the report can say whom to target;
* :mod:`~crmlab.campaign.money`: :func:`roi` turns lifts into money: incremental conversions
  and revenue, cost, margin, ROI and lifetime value;
* :mod:`~crmlab.campaign.uplift`: :class:`TwoModelUplift` and
  :class:`ClassTransformationUplift` model who responds *because* of the campaign;
  :mod:`~crmlab.campaign.qini` scores the ranking (Qini and uplift curves, areas,
  :func:`uplift_at_k`); :mod:`~crmlab.campaign.targeting` turns it into whom to contact
  (:func:`targeting_policy`, :func:`targeting_recommendation`);
* :mod:`~crmlab.campaign.did`: :func:`diff_in_diff` estimates the effect of a campaign that
  was *not* randomised, clearly labelled as weaker evidence, on a ready panel;
  :mod:`~crmlab.campaign.observational` builds that panel from transactions and a campaign
  table (:func:`campaign_panel`) and runs :func:`did_campaign`: event study, pre-trend and
  placebo tests, "not credible: pre-trends differ" when they fail;
* :mod:`~crmlab.campaign.narrative`: :func:`recommend` and every sentence of the read-out;
* :mod:`~crmlab.campaign.audience`: the act step: :func:`design_audience` draws a treatment
  group and a stratified randomised holdout sized by the power calculation and writes the
  audience and its design; :func:`readout` measures it from the transactions by segment
  (the function ``campaign.readout``; the module of :func:`measure` stays importable as
  ``crmlab.campaign.readout`` through ``from ... import``);
* :mod:`~crmlab.campaign.io`: :func:`load_experiment`, :func:`slug` and the input checks;
* :mod:`~crmlab.campaign.memo`: the steps of the campaign notebook beyond one call.

A new test statistic goes into ``moments``; a new kind of read-out into its own module,
re-exported here.
"""

from crmlab.campaign.audience import (
    AudienceDesign,
    ReadoutResult,
    design_audience,
    load_design,
    preferred_hours,
)
from crmlab.campaign.audience import readout as _audience_readout
from crmlab.campaign.design import PlanResult, SampleRatioMismatchWarning, holdout, plan, srm_check
from crmlab.campaign.did import DiDResult, diff_in_diff
from crmlab.campaign.io import load_experiment, slug
from crmlab.campaign.money import ROIResult, roi
from crmlab.campaign.narrative import recommend
from crmlab.campaign.readout import MeasureResult, measure
from crmlab.campaign.observational import (
    NOT_CREDIBLE,
    ObservationalResult,
    campaign_panel,
    did_campaign,
    event_study,
)
from crmlab.campaign.qini import (
    qini_area,
    qini_coefficient,
    qini_curve,
    uplift_area,
    uplift_at_k,
    uplift_curve,
)
from crmlab.campaign.segments import SegmentEffectsResult, segment_effects
from crmlab.campaign.targeting import TargetingResult, targeting_policy, targeting_recommendation
from crmlab.campaign.uplift import ClassTransformationUplift, TwoModelUplift, one_hot

__all__ = [
    "AudienceDesign",
    "ReadoutResult",
    "design_audience",
    "load_design",
    "preferred_hours",
    "readout",
    "NOT_CREDIBLE",
    "ObservationalResult",
    "campaign_panel",
    "did_campaign",
    "event_study",
    "ClassTransformationUplift",
    "TargetingResult",
    "TwoModelUplift",
    "one_hot",
    "qini_area",
    "qini_coefficient",
    "qini_curve",
    "targeting_policy",
    "targeting_recommendation",
    "uplift_area",
    "uplift_at_k",
    "uplift_curve",
    "DiDResult",
    "MeasureResult",
    "PlanResult",
    "ROIResult",
    "SampleRatioMismatchWarning",
    "SegmentEffectsResult",
    "diff_in_diff",
    "holdout",
    "load_experiment",
    "measure",
    "plan",
    "recommend",
    "roi",
    "segment_effects",
    "slug",
    "srm_check",
]

# ``campaign.readout`` is the function (the designed campaign's read-out). The submodule of the
# same name, which holds :func:`measure`, was imported above, so this binding is the last and
# stays; ``from crmlab.campaign.readout import measure`` keeps working through sys.modules.
readout = _audience_readout
