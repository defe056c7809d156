# scipy's side of bench/sqrtm.ts: the Fréchet distance of two covariance pairs as pytorch-fid and
# the ADM evaluator compute it (scipy.linalg.sqrtm of the product Σ1 Σ2, real part, trace).
# Prints one JSON line: per file, the sqrtm seconds and the FID.
import json, sys, time
import numpy as np
from scipy import linalg

out = {}
for path in sys.argv[1:]:
    z = np.load(path)
    mu1, s1, mu2, s2 = z['mu1'], z['sigma1'], z['mu2'], z['sigma2']
    t0 = time.perf_counter()
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    seconds = time.perf_counter() - t0
    covmean = covmean.real
    diff = mu1 - mu2
    fid = float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))
    out[path] = {'seconds': seconds, 'fid': fid}
print(json.dumps(out))
