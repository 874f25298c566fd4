"""Every answer of the mistake corpus (tests/unit/checker_corpus/) gets the right verdict.

A correct answer passes; a wrong one fails with a message that contains the phrases the corpus
names for it: the hint of its mistake, or the generic description of the difference. No answer
may make a checker fail on its own ("a bug in the checker").
"""

from __future__ import annotations

from collections import Counter

import pytest
from checker_corpus import CORPUS, chapter1, chapter2, chapter3, chapter4, on_track  # noqa: F401

from labutils import checkers

CHECKER_OF = {
    "1.1": checkers.check_ae_step,
    "1.2": checkers.check_add_noise,
    "1.3": checkers.check_code_gaussian,
    "2.1": checkers.check_reparameterize,
    "2.2": checkers.check_kl_divergence,
    "2.3": checkers.check_beta_vae_loss,
    "3.1": checkers.check_discriminator_step,
    "3.2": checkers.check_smoothed_discriminator_loss,
    "4.4": checkers.check_frechet_distance,
    "4.5": checkers.check_class_entropy,
    "4.6": checkers.check_precision_recall,
    "on_track": lambda history: checkers.check_on_track(*history()),
}


@pytest.mark.parametrize("answer", CORPUS, ids=lambda answer: answer.id)
def test_verdict(answer, capsys):
    result = CHECKER_OF[answer.exercise](answer.function)
    assert "bug in the checker" not in result.message
    if answer.phrases is None:
        assert result, result.message
        assert result.message.startswith("✅")
    else:
        assert not result and result.message.startswith("❌"), result.message
        for phrase in answer.phrases:
            assert phrase in result.message, result.message
    assert capsys.readouterr().out.endswith(result.message + "\n")  # after what the answer printed


def test_every_exercise_has_enough_answers():
    right = Counter(a.exercise for a in CORPUS if a.phrases is None)
    wrong = Counter(a.exercise for a in CORPUS if a.phrases is not None)
    for exercise in CHECKER_OF:
        assert wrong[exercise] >= 12 and right[exercise] >= 5, (exercise, wrong, right)
