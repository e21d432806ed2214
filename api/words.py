"""Words for codes that both the pages and the command line show (catalog msgids, rendered in
the reader's locale where shown). Light on purpose: the command line imports it at start."""

from __future__ import annotations

from itembank.i18n import N_

DOC_LABELS = {"paper": N_("Paper"), "answer_key": N_("Key and scoring standard"), "answer_sheet": N_("Answer sheet"),
              "task_sheet": N_("Task sheet"), "scoring_sheet": N_("Scoring sheet"),
              "defence_topics": N_("Defence topics")}
"""A paper's documents (``exports.service.DocumentKind``)."""
DOC_KINDS = {"theory": ("paper", "answer_key", "answer_sheet"), "practical": ("task_sheet", "scoring_sheet"),
             "defence": ("defence_topics", "scoring_sheet")}
"""The documents of a paper of each part."""
OBJECTIVE_WORDS = {"none": N_("No IRT target"), "maximin": N_("Measure best where it is weakest"),
                   "target_information": N_("Match a target information curve"),
                   "target_tcc": N_("Match a target expected score curve")}
"""A blueprint's IRT objective (``assembly.OBJECTIVES``)."""
