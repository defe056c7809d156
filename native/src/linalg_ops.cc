// Dense linear algebra from libtorch's LAPACK: the symmetric eigen-problems and the Cholesky
// factor behind the Fréchet distance (FID/sFID statistics are 2048x2048 float64 covariances).
#include "common.h"

namespace ctf {

// eigh(a, upper?): eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix;
// only the lower triangle is read unless `upper`.
CTF_OP(eigh) {
  CTF_BODY(eigh) {
    auto r = at::linalg_eigh(T(info, 0), Present(info, 1) && Bool(info, 1) ? "U" : "L");
    return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
  } CTF_END
}
// eigvalsh(a, upper?): the eigenvalues alone (ascending), cheaper than eigh.
CTF_OP(eigvalsh) {
  CTF_BODY(eigvalsh) {
    return Wrap(info.Env(), at::linalg_eigvalsh(T(info, 0), Present(info, 1) && Bool(info, 1) ? "U" : "L"));
  } CTF_END
}

// choleskyEx(a): lower Cholesky factor L (a = L Lᵀ) and LAPACK's info (0, or the order of the
// first non-positive leading minor: then L is not a factor), without throwing.
CTF_OP(choleskyEx) {
  CTF_BODY(choleskyEx) {
    auto r = at::linalg_cholesky_ex(T(info, 0), false, false);
    return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
  } CTF_END
}

void RegisterLinalgOps(Napi::Env env, Napi::Object exports) {
  CTF_EXPORT(exports, eigh);
  CTF_EXPORT(exports, eigvalsh);
  CTF_EXPORT(exports, choleskyEx);
}

}  // namespace ctf
