# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Regenerating the paper's theory figures
#
# **Shows:** how one registered paper figure is regenerated (quick mode) and how to regenerate them all.
#
# **Runs in:** about 10 s on a two-core machine. The committed `.ipynb` holds the outputs; regenerate it from this twin with `jupytext --to ipynb --execute --run-path /tmp notebooks/regenerate_figures.py`.
#
# Every figure of the Model Privacy paper's theory section (and of the responsive-stealing and property-inference work) is a registered function; `modelprivacy figures --jobs 2` runs all 21 at paper scale (about 9.5 minutes on two cores from an empty folder; seconds when every record is reused) and writes `<name>.png`, `<name>.pdf`, `<name>.csv` (plotted data, intervals, replications per cell and theory lines) and `<name>_records.csv` (one fingerprinted row per replication) into `paper_figures/`.
#
# This notebook regenerates one figure in quick mode (few replications) in its working directory.

# %%
import csv, os
from IPython.display import Image, display
from modelprivacy.figures import FIGURES, get_figure
sorted(FIGURES)

# %% [markdown]
# `krr_ratio`: privacy level vs utility loss for the kernel-ridge game at n = 100. Kernel Confusion is designed against the paper's cubic-kernel surrogate (the real attacker uses an RBF kernel); the dashed lines are PL = U and the known-attacker frontier PL*(u) from the exact trust-region solver.

# %%
out = get_figure('krr_ratio')(out_dir='.', quick=True, seed=0)
print(f'{out.name}: {out.seconds:.1f} s')
display(Image('krr_ratio.png', width=420))

# %%
rows = list(csv.DictReader(open('krr_ratio.csv')))
for r in rows:
    if r['defense'] in ('constant', 'kernel_confusion') or r['defense'].startswith('theory'):
        print(f"{r['defense']:<40} U={float(r['nominal_utility_loss']):.3f}  PL={float(r['privacy_level']):.4f}")

# %% [markdown]
# ## All figures
#
# ```bash
# modelprivacy figures                       # every figure at paper scale -> paper_figures/
# modelprivacy figures krr_n lasso --jobs 2  # some figures, two local workers
# modelprivacy figures --quick               # smoke run
# modelprivacy figures --scheduler local     # on a Dask LocalCluster
# modelprivacy figures --scheduler tcp://host:8786   # on a running Dask cluster
# ```
#
# Runs resume from `<name>_records.csv`: a record is reused only when its fingerprint (cell, seed and the source of the code that computed it) matches, so an interrupted run recomputes only the missing replications and an edited defense recomputes its cells; the same seed gives identical numbers serially, with joblib or on Dask.
