"""The bias/variance verdict of the notes: compare the training error with a reference (human-level or Bayes)
error, and the validation error with the training error.

    avoidable bias = train error − reference error   (large: the model cannot even fit the training set)
    variance       = val error − train error         (large: it fits the training set but does not generalize)
"""

from __future__ import annotations

from dataclasses import dataclass

REMEDIES = {
    "high bias": "a bigger net (more units or layers) or longer training (more epochs, a better optimizer or lr)",
    "high variance": "more training data, or regularization (dropout, l2 / weight decay, augmentation, early stopping)",
    "good fit": "nothing to fix at these thresholds; a lower diagnostics.reference_error asks for more",
}
REMEDIES["high bias and high variance"] = f"first {REMEDIES['high bias']}; then {REMEDIES['high variance']}"


@dataclass(frozen=True)
class Diagnosis:
    """A verdict and the numbers it was drawn from (errors are fractions: 1 − accuracy, or for a regression
    MSE / Var(y), the share of the target's variance left unexplained)."""

    verdict: str
    train_error: float
    val_error: float
    reference_error: float
    bias_threshold: float
    variance_threshold: float
    measure: str = "1 − accuracy"

    @property
    def avoidable_bias(self) -> float:
        return self.train_error - self.reference_error

    @property
    def gap(self) -> float:
        return self.val_error - self.train_error

    @property
    def remedy(self) -> str:
        return REMEDIES[self.verdict]

    def metrics(self) -> dict[str, float | str]:
        """The `diagnosis/*` entries of metrics.json."""
        numbers = {
            "train_error": self.train_error,
            "val_error": self.val_error,
            "gap": self.gap,
            "reference_error": self.reference_error,
            "avoidable_bias": self.avoidable_bias,
            "bias_threshold": self.bias_threshold,
            "variance_threshold": self.variance_threshold,
        }
        out: dict[str, float | str] = {"diagnosis/verdict": self.verdict, "diagnosis/remedy": self.remedy}
        out.update({f"diagnosis/{key}": round(value, 6) for key, value in numbers.items()})
        return out

    def line(self) -> str:
        measure = "" if self.measure == "1 − accuracy" else f"; errors: {self.measure}"
        return (
            f"diagnosis: {self.verdict} (train error {self.train_error:.4f}, val error {self.val_error:.4f}, "
            f"gap {self.gap:.4f}, reference error {self.reference_error:.4f}{measure}): {self.remedy}"
        )


def diagnose(
    train_error: float,
    val_error: float,
    reference_error: float = 0.0,
    bias_threshold: float = 0.02,
    variance_threshold: float = 0.02,
    measure: str = "1 − accuracy",
) -> Diagnosis:
    """High bias when the avoidable bias exceeds `bias_threshold`, high variance when the train→val gap exceeds
    `variance_threshold`, both, or a good fit."""
    bias = train_error - reference_error > bias_threshold
    variance = val_error - train_error > variance_threshold
    verdict = {
        (True, True): "high bias and high variance",
        (True, False): "high bias",
        (False, True): "high variance",
        (False, False): "good fit",
    }[(bias, variance)]
    return Diagnosis(verdict, train_error, val_error, reference_error, bias_threshold, variance_threshold, measure)
