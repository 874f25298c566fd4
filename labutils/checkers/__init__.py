"""Self-checks for the exercises: `check_kl_divergence(my_kl_divergence)` and friends.

Every checker prints its message and returns a `CheckResult`, truthy when the checks pass, with
the message in `.message` (see `core` for how a checker judges an answer). The chapters call them
as `check_x(globals().get("my_x"))`, so that a checker run before its exercise says which cell to
run first instead of raising a NameError. `check_on_track(history, run, smoke)` compares a
training run's loss curve with the band recorded from the reference solution.
"""

from .autoencoders import check_add_noise, check_ae_step
from .code_gaussian import check_code_gaussian
from .comparison import check_class_entropy, check_frechet_distance
from .core import CHECKERS, CheckResult, Hint
from .dcgan import check_discriminator_step, check_smoothed_discriminator_loss
from .on_track import BANDS_FILE, check_on_track, run_band
from .precision_recall import check_precision_recall
from .vae import check_beta_vae_loss, check_kl_divergence, check_reparameterize

__all__ = [
    "BANDS_FILE",
    "CHECKERS",
    "CheckResult",
    "Hint",
    "check_add_noise",
    "check_ae_step",
    "check_beta_vae_loss",
    "check_class_entropy",
    "check_code_gaussian",
    "check_discriminator_step",
    "check_frechet_distance",
    "check_kl_divergence",
    "check_on_track",
    "check_precision_recall",
    "check_reparameterize",
    "check_smoothed_discriminator_loss",
    "run_band",
]
