"""Tables in the column layout of the public Titanic and Boston housing files, made up (seeded): what
experiment=titanic and experiment=boston read, without shipping or downloading either file."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

BOSTON_COLUMNS = ["CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT"]


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def titanic_csv(path: Path, rows: int = 200, seed: int = 0) -> Path:
    """Kaggle's train.csv layout; survival depends on sex and class; some ages and ports are missing."""
    rng = np.random.default_rng(seed)
    header = ["PassengerId", "Survived", "Pclass", "Name", "Sex", "Age", "SibSp", "Parch", "Ticket", "Fare"]
    header += ["Cabin", "Embarked"]
    out = []
    for i in range(rows):
        pclass, sex = int(rng.integers(1, 4)), str(rng.choice(["male", "female"]))
        survived = int(rng.random() < (0.75 if sex == "female" else 0.2) + 0.1 * (2 - pclass))
        age = "" if rng.random() < 0.2 else f"{rng.uniform(1, 70):.1f}"
        port = "" if rng.random() < 0.02 else str(rng.choice(["S", "C", "Q"]))
        fare = f"{rng.uniform(5, 100) / pclass:.4f}"
        name = f'"Doe, Mr. John {i}"'
        out.append([i + 1, survived, pclass, name, sex, age, int(rng.integers(0, 3)), int(rng.integers(0, 3))])
        out[-1] += [f"T{i}", fare, "" if rng.random() < 0.7 else f"C{i}", port]
    return write_csv(path, header, out)


def boston_csv(path: Path, rows: int = 200, seed: int = 0) -> Path:
    """The Boston housing layout: 13 feature columns and MEDV, a noisy linear function of RM and LSTAT."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, len(BOSTON_COLUMNS))) + 5
    features[:, 3] = rng.integers(0, 2, size=rows)  # CHAS is 0/1
    medv = 22 + 6 * (features[:, 5] - 5) - 4 * (features[:, 12] - 5) + rng.normal(scale=1.0, size=rows)
    table = [[*(f"{v:.4f}" for v in row), f"{m:.2f}"] for row, m in zip(features, medv, strict=True)]
    return write_csv(path, [*BOSTON_COLUMNS, "MEDV"], table)


def data_dir_with_tables(dest: Path, data_dir: Path) -> Path:
    """A data dir holding `data_dir`'s folders (linked) plus titanic/train.csv and boston/housing.csv, where
    experiment=titanic and experiment=boston look by default."""
    dest.mkdir(parents=True, exist_ok=True)
    for entry in data_dir.iterdir():
        if not (dest / entry.name).exists():
            (dest / entry.name).symlink_to(entry.resolve())
    titanic_csv(dest / "titanic" / "train.csv")
    boston_csv(dest / "boston" / "housing.csv")
    return dest
