// Dense linear algebra from libtorch's LAPACK: the symmetric eigen-decomposition behind the
// Fréchet distance (FID/sFID statistics are 2048x2048 float64 covariances).
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

void RegisterLinalgOps(Napi::Env env, Napi::Object exports) {
  CTF_EXPORT(exports, eigh);
  CTF_EXPORT(exports, eigvalsh);
}

}  // namespace ctf
