"""Training histories for `check_on_track`, as `fit` returns them (or as a learner might pass
them instead). Each answer returns the arguments (history, run, smoke).

The step curves are those of real smoke-mode runs of scripts/record_bands.py (seed 0) with the
learning rate times 1, 0.01, 10 and 30, rounded; tests/unit/test_checkers.py trains such runs."""

import math

import numpy as np
import torch

from . import right, wrong

AE = [0.2323, 0.2259, 0.2166, 0.2018, 0.1792, 0.1525, 0.1221, 0.0984]
AE += [0.0851, 0.0817, 0.0742, 0.0739, 0.079, 0.072, 0.0726, 0.075]  # learning rate x 1
AE_SLOW = [0.2323, 0.232, 0.2323, 0.2327, 0.2321, 0.2319, 0.232, 0.2323]
AE_SLOW += [0.2317, 0.2316, 0.2318, 0.2322, 0.2317, 0.2316, 0.2321, 0.2317]  # x 0.01
AE_FAST = [0.2323, 0.1024, 0.0824, 0.0726, 0.0723, 0.0796, 0.075, 0.0702]
AE_FAST += [0.0702, 0.0689, 0.068, 0.0654, 0.0686, 0.0639, 0.0626, 0.063]  # x 10
AE_STALLED = [0.2323, 0.1172, 0.1114, 0.1097, 0.1091, 0.1158, 0.1113, 0.1101]
AE_STALLED += [0.1133, 0.1159, 0.1094, 0.1112, 0.1146, 0.1092, 0.1098, 0.11]  # x 30
VAE = [550.5, 524.3, 498.1, 474.8, 445.4, 422.7, 396.4, 371.0]
VAE += [350.7, 344.5, 316.6, 307.5, 299.9, 278.7, 269.8, 267.0]  # x 1
VAE_JUMP = [550.5, 10161.3, 280.7, 250.8, 228.5, 262.7, 291.9, 285.2]
VAE_JUMP += [256.0, 256.7, 242.2, 236.5, 247.9, 227.9, 221.6, 225.8]  # x 30


def ae_history(steps, scale=1.0):
    steps = [scale * s for s in steps]
    return {"train_loss": [sum(steps) / len(steps)], "step_loss": steps, "seconds": [0.3]}


def vae_history(steps, beta=4.0, kl=3.678):
    total = sum(steps) / len(steps)
    return {
        "train_total": [total],
        "train_reconstruction": [total - beta * kl],
        "train_kl": [kl],
        "step_total": steps,
    }


@right("on_track")
def reference_denoiser_in_smoke_mode():
    return ae_history(AE), "denoising-ae", True


@right("on_track")
def reference_beta_vae_in_smoke_mode():
    return vae_history(VAE), "beta-vae", True


@right("on_track")
def list_of_full_mode_losses():
    return [192.0, 164.5, 158.0], "beta-vae", False


@right("on_track")
def longer_run_than_the_band():
    return {"train_loss": [0.0405, 0.0195, 0.0165, 0.015, 0.014]}, "denoising-ae", False


@right("on_track")
def numpy_numbers_in_a_tuple():
    return (np.float32(0.1264),), "denoising-ae", True


@right("on_track")
def interrupted_during_the_second_epoch():
    history = ae_history(AE)
    history["step_loss"] += AE[:5]
    history["stopped"] = ["Interrupted at epoch 2, after step 5 of 16."]
    return history, "denoising-ae", True


@right("on_track")
def list_of_totals_in_smoke_mode():
    return [385.1], "beta-vae", True


@wrong("on_track", "No training history yet", "run the training cell of Exercise 1.2 first")
def not_trained_yet():
    return None, "denoising-ae", True


@wrong("on_track", "Cannot judge this run", "got a float")
def a_single_loss():
    return 0.126, "denoising-ae", True


@wrong("on_track", "Cannot judge this run", "float32 tensor of shape (3,)")
def a_tensor_of_losses():
    return torch.tensor([0.04, 0.02, 0.017]), "denoising-ae", False


@wrong("on_track", "has no 'train_loss'", "test_loss")
def the_test_losses_only():
    return {"test_loss": [0.12]}, "denoising-ae", True


@wrong("on_track", "Cannot judge this run", "one number per entry")
def losses_as_text():
    return {"train_loss": ["low"]}, "denoising-ae", True


@wrong("on_track", "Diverged at epoch 1, step 5", "fit stopped the run", "Lower the learning rate")
def nan_in_the_first_epoch():
    history = {
        "step_loss": AE[:4],
        "stopped": ["Non-finite loss was nan at epoch 1, step 5 of 16."],
    }
    return history, "denoising-ae", True


@wrong("on_track", "Diverged at epoch 2, step 101")
def nan_in_the_second_epoch():
    history = {
        "train_total": [192.0],
        "step_total": [200.0] * 469 + [170.0] * 100,
        "stopped": ["Non-finite total was inf at epoch 2, step 101 of 469."],
    }
    return history, "beta-vae", False


@wrong("on_track", "Too slow", "too small?")
def learning_rate_too_small():
    return ae_history(AE_SLOW), "denoising-ae", True


@wrong("on_track", "Unstable", "jumped to 1.016e+04", "too large")
def learning_rate_too_large_for_the_vae():
    return vae_history(VAE_JUMP, kl=113.9), "beta-vae", True


@wrong("on_track", "Stalled", "too large")
def learning_rate_too_large_for_the_autoencoder():
    return ae_history(AE_STALLED), "denoising-ae", True


@wrong("on_track", "Below the band", "another learning rate")
def learning_rate_ten_times_larger():
    return ae_history(AE_FAST), "denoising-ae", True


@wrong("on_track", "Diverging", "rising")
def rising_loss():
    return ae_history([0.1 + 0.02 * i for i in range(16)]), "denoising-ae", True


@wrong("on_track", "about 784 times", "summed over the 784 pixels")
def loss_summed_over_pixels():
    return ae_history(AE, scale=784), "denoising-ae", True


@wrong("on_track", "Wrong beta", "beta = 1", "beta = 4")
def beta_one_in_smoke_mode():
    return vae_history(VAE, beta=1.0), "beta-vae", True


@wrong("on_track", "Wrong beta", "beta = 40")
def beta_forty_in_smoke_mode():
    return vae_history(VAE, beta=40.0, kl=0.5), "beta-vae", True


@wrong("on_track", "Not comparable", "40 steps per epoch")
def other_batch_size():
    return ae_history(AE + AE + AE[:8]), "denoising-ae", True


@wrong("on_track", "No completed epoch yet")
def no_epoch():
    return {"train_loss": [], "step_loss": []}, "denoising-ae", True


@wrong("on_track", "Diverging", "NaN")
def nan_in_a_list():
    return [math.nan], "beta-vae", True
