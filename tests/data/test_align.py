"""pandas inputs are paired by subject id (and labelled graphs by region), never by position."""

import numpy as np
import pandas as pd
import pytest

from jaxgen import cca, lmm
from jaxgen.data import simulate_spatial_lmm
from jaxgen.data.align import align_rows

rng = np.random.default_rng(0)


@pytest.fixture(scope="module")
def study():
    d = simulate_spatial_lmm(1, n=40, p=5, c=4, n_causal=1, rho=0.5, h2=0.3, effect=0.3)
    ids = [f"s{i:02d}" for i in range(40)]
    frames = dict(Y=pd.DataFrame(d.Y, index=ids, columns=d.region_names),
                  X=pd.DataFrame(d.X, index=ids, columns=d.snp_ids),
                  covariates=pd.DataFrame(d.covariates, index=ids, columns=["intercept", "age", "sex"]),
                  kinship=pd.DataFrame(d.kinship, index=ids, columns=ids),
                  adjacency=pd.DataFrame(d.adjacency, index=d.region_names, columns=d.region_names))
    return d, frames


def _shuffled(frame, order, square=False):
    return frame.iloc[order, order] if square else frame.iloc[order]


def test_lmm_inputs_in_other_orders_give_the_data_of_aligned_arrays(study):
    d, f = study
    expected, _ = lmm.prepare_data(d.Y, d.X, d.adjacency, d.covariates, d.kinship)
    order = rng.permutation(40)
    regions = rng.permutation(4)
    data, _ = lmm.prepare_data(f["Y"], _shuffled(f["X"], order), _shuffled(f["adjacency"], regions, square=True),
                               _shuffled(f["covariates"], order[::-1]), _shuffled(f["kinship"], order, square=True))
    for name in ("Y", "W", "kinship_eigenvalues", "adjacency"):
        np.testing.assert_allclose(np.asarray(getattr(data, name)), np.asarray(getattr(expected, name)),
                                   rtol=1e-12, atol=1e-12, err_msg=name)
    one_snp, _ = lmm.prepare_data(f["Y"], f["X"][d.snp_ids[1]].iloc[order], d.adjacency)  # a Series
    np.testing.assert_allclose(np.asarray(one_snp.W[:, 1]), (d.X[:, 1] - d.X[:, 1].mean()) / d.X[:, 1].std(ddof=1),
                               rtol=1e-12)


@pytest.mark.parametrize("broken, message", [
    (lambda f: dict(f, X=f["X"].rename(index={"s03": "x03", "s07": "x07"})),
     r"Y and X are labelled by different subjects: 2 of X are not in Y \('x03', 'x07'\); 2 of Y are not in X"),
    (lambda f: dict(f, covariates=f["covariates"].iloc[:30]),
     r"Y and covariates .* 10 of Y are not in covariates \('s30', 's31', 's32', 's33', 's34' …\)"),
    (lambda f: dict(f, kinship=f["kinship"].rename(columns={"s00": "zz"})),
     r"kinship's index and kinship's columns are labelled by different subjects"),
    (lambda f: dict(f, X=f["X"].rename(index={"s01": "s00"})), r"X's index repeats 1 labels: 's00'"),
    (lambda f: dict(f, adjacency=f["adjacency"].rename(index=str.upper, columns=str.upper)),
     r"Y's columns and adjacency's columns are labelled by different labels"),
    (lambda f: dict(f, Y=f["Y"].reset_index(drop=True)), r"Y and X are labelled by different subjects: 40 of X"),
])
def test_lmm_refuses_labelled_inputs_whose_ids_differ(study, broken, message):
    _, f = study
    f = broken(f)
    with pytest.raises(ValueError, match=message):
        lmm.fit(f["Y"], f["X"], f["adjacency"], covariates=f["covariates"], kinship=f["kinship"], num_chains=1,
                num_warmup=1, num_samples=1, progress=False)


def test_cca_entry_points_pair_modalities_by_subject_and_regions_by_name(study):
    d, f = study
    Ys = [f["Y"], f["Y"] ** 2 + rng.normal(size=(40, 4))]
    arrays = cca.MTS2CCA(max_iter=20).fit(d.X, [Y.to_numpy() for Y in Ys])
    order = rng.permutation(40)
    frames = cca.MTS2CCA(max_iter=20).fit(f["X"], [Ys[0].iloc[order], Ys[1].iloc[order[::-1]]])
    np.testing.assert_allclose(frames.U_, arrays.U_, rtol=1e-10, atol=1e-12)
    columns = list(reversed(Ys[0].columns))
    np.testing.assert_allclose(frames.score(f["X"][list(reversed(f["X"].columns))].iloc[order],
                                            [Ys[0][columns], Ys[1].iloc[order]]),
                               arrays.score(d.X, [Y.to_numpy() for Y in Ys]), rtol=1e-10)
    with pytest.raises(ValueError, match=r"the SNPs of the fit and X's columns are labelled by different labels"):
        frames.transform(f["X"].rename(columns=str.upper), Ys)
    wrong = [Ys[0], Ys[1].rename(index={"s05": "other"})]
    with pytest.raises(ValueError, match=r"X and Ys\[1\] are labelled by different subjects: 1 of Ys\[1\]"):
        cca.cross_validate(cca.MTS2CCA(), f["X"], wrong, param_grid={"beta1": [1.0]}, cv=2, progress=False)
    with pytest.raises(ValueError, match=r"X and Ys\[1\] are labelled by different subjects"):
        cca.permutation_test(cca.MTS2CCA(), f["X"], wrong, n_permutations=2, progress=False)
    with pytest.raises(ValueError, match="wrap a single modality"):
        cca.MTS2CCA().fit(f["X"], Ys[0])


def test_numpy_inputs_pass_in_their_order():
    values = {"Y": np.arange(6.0).reshape(3, 2), "X": pd.DataFrame({"a": [1.0, 2, 3]}, index=["c", "a", "b"])}
    aligned, ids = align_rows(values)
    assert ids == ["c", "a", "b"] and aligned["Y"] is values["Y"]
    assert align_rows({"Y": values["Y"]})[1] is None
