"""Samples to the numbers the results report: medians and ratios, rounded for reading."""

import statistics


def summary(samples: list[float]) -> dict:
    return {"median": round(statistics.median(samples), 3), "min": round(min(samples), 3),
            "max": round(max(samples), 3), "samples": [round(s, 3) for s in samples]}


def ratio(full: dict, raw: dict) -> float:
    return round(full["median"] / raw["median"], 3)
