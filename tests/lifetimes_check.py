"""Independent reference for tests/analytics_lifetimes.rs, using Python's `lifetimes`.

Usage: python3 lifetimes_check.py OUT_DIR

Writes OUT_DIR/orders.csv (lifetimes' CDNOW sample as order lines, one customer per CDNOW id)
and OUT_DIR/lifetimes.json: lifetimes' BG/NBD fit on the 39-week calibration period (times in
weeks, as in Fader, Hardie & Lee 2005) with every customer's probability alive and expected
purchases over the next 39 weeks. Exits 3 when lifetimes is not installed.
"""
import json
import os
import sys
import time

try:
    import lifetimes
    import pandas as pd
    from lifetimes.utils import summary_data_from_transaction_data
except ImportError as e:  # pragma: no cover
    print(f"lifetimes unavailable: {e}", file=sys.stderr)
    sys.exit(3)

out = sys.argv[1]
sample = os.path.join(os.path.dirname(lifetimes.__file__), "datasets", "CDNOW_sample.txt")
rows = []
with open(sample) as f:
    for line in f:
        parts = line.split()
        if len(parts) < 5:
            continue
        _, index, day, quantity, amount = parts[:5]
        rows.append((f"cdnow-{int(index)}", day, int(quantity), amount))

with open(os.path.join(out, "orders.csv"), "w") as f:
    f.write("customer,date,product,quantity,amount\n")
    for customer, day, quantity, amount in rows:
        f.write(f"{customer},{day},CD,{quantity},{amount}\n")

frame = pd.DataFrame(rows, columns=["id", "date", "quantity", "amount"])
frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
summary = summary_data_from_transaction_data(
    frame, "id", "date", observation_period_end="1997-09-30", freq="D"
)
summary["recency"] = summary["recency"] / 7.0
summary["T"] = summary["T"] / 7.0
started = time.perf_counter()
bgf = lifetimes.BetaGeoFitter(penalizer_coef=0.0)
bgf.fit(summary["frequency"], summary["recency"], summary["T"])
fit_seconds = time.perf_counter() - started
p_alive = bgf.conditional_probability_alive(summary["frequency"], summary["recency"], summary["T"])
expected = bgf.conditional_expected_number_of_purchases_up_to_time(
    39, summary["frequency"], summary["recency"], summary["T"]
)
result = {
    "params": {k: float(v) for k, v in bgf.params_.items()},
    "fit_seconds": fit_seconds,
    "customers": {
        str(cid): {
            "x": int(summary.loc[cid, "frequency"]),
            "p_alive": float(p_alive[i]),
            "expected_purchases": float(expected.iloc[i]),
        }
        for i, cid in enumerate(summary.index)
    },
}
with open(os.path.join(out, "lifetimes.json"), "w") as f:
    json.dump(result, f)
print(f"lifetimes {lifetimes.__version__}: {len(summary)} customers, params {result['params']}")
