"""FreeSurfer whole-brain columns are recognised, left out of the QTs, and usable as covariates."""

import numpy as np
import pandas as pd
import pytest

from jaxgen.io import InputError, ReadLog, load_cca_study, load_lmm_study, read_qt_table, write_plink
from jaxgen.io.freesurfer import is_global_measure

# The header lines aparcstats2table (thickness, area) and asegstats2table (FreeSurfer 7) write.
APARC_THICKNESS = ["lh.aparc.thickness", "lh_bankssts_thickness", "lh_caudalanteriorcingulate_thickness",
                   "lh_insula_thickness", "lh_MeanThickness_thickness", "BrainSegVolNotVent", "eTIV"]
APARC_AREA = ["lh.aparc.area", "lh_bankssts_area", "lh_caudalanteriorcingulate_area", "lh_insula_area",
              "lh_WhiteSurfArea_area", "BrainSegVolNotVent", "eTIV"]
ASEG_GLOBALS = ["BrainSegVol", "BrainSegVolNotVent", "BrainSegVolNotVentSurf", "VentricleChoroidVol", "lhCortexVol",
                "rhCortexVol", "CortexVol", "lhCerebralWhiteMatterVol", "rhCerebralWhiteMatterVol",
                "CerebralWhiteMatterVol", "SubCortGrayVol", "TotalGrayVol", "SupraTentorialVol",
                "SupraTentorialVolNotVent", "MaskVol", "BrainSegVol-to-eTIV", "MaskVol-to-eTIV", "lhSurfaceHoles",
                "rhSurfaceHoles", "SurfaceHoles", "EstimatedTotalIntraCranialVol"]
ASEG_REGIONS = ["Left-Lateral-Ventricle", "Left-Thalamus", "Left-Hippocampus", "3rd-Ventricle", "Brain-Stem", "CSF",
                "WM-hypointensities", "CC_Posterior", "Right-Amygdala"]


def test_whole_brain_columns_are_recognised_and_regions_are_not():
    assert [c for c in APARC_THICKNESS[1:] if is_global_measure(c)] == APARC_THICKNESS[-3:]
    assert [c for c in APARC_AREA[1:] if is_global_measure(c)] == APARC_AREA[-3:]
    assert all(is_global_measure(c) for c in ASEG_GLOBALS + ["rh_MeanThickness_thickness", "etiv"])
    assert not any(is_global_measure(c) for c in ASEG_REGIONS + ["lh_superiorfrontal_volume", "region001"])


def _aparc_table(path, header, n=30, seed=0):
    rng = np.random.default_rng(seed)
    values = rng.normal(2.5, 0.2, size=(n, len(header) - 1))
    values[:, -1] = rng.normal(1.5e6, 1e5, n)            # eTIV, mm³
    values[:, -2] = 0.7 * values[:, -1] + rng.normal(0, 2e4, n)
    frame = pd.DataFrame(values, columns=header[1:], index=pd.Index([f"s{i}" for i in range(n)], name=header[0]))
    frame.to_csv(path, sep="\t")
    return frame


def test_qt_reader_leaves_whole_brain_columns_out_and_says_so(tmp_path):
    _aparc_table(tmp_path / "lh.thickness.txt", APARC_THICKNESS)
    log = ReadLog()
    table = read_qt_table(tmp_path / "lh.thickness.txt", log=log)
    assert list(table.columns) == APARC_THICKNESS[1:4]
    assert any("whole-brain measures are not regions and were left out of the QTs: lh_MeanThickness_thickness, "
               "BrainSegVolNotVent, eTIV" in line for line in log.lines)
    named = read_qt_table(tmp_path / "lh.thickness.txt", columns=["eTIV", "lh_insula_thickness"])
    assert list(named.columns) == ["eTIV", "lh_insula_thickness"]      # asked for by name: kept


@pytest.fixture
def fileset(tmp_path):
    rng = np.random.default_rng(1)
    write_plink(tmp_path / "g", rng.binomial(2, 0.3, size=(30, 6)).astype(float), [f"s{i}" for i in range(30)],
                [f"rs{j}" for j in range(6)])
    return tmp_path


def test_lmm_loader_uses_named_qt_columns_as_covariates(fileset):
    frame = _aparc_table(fileset / "lh.thickness.txt", APARC_THICKNESS)
    study = load_lmm_study(fileset / "g", fileset / "lh.thickness.txt", covariates_from_qt=["eTIV"])
    assert list(study.covariates.columns) == ["intercept", "eTIV"]
    np.testing.assert_array_equal(study.covariates["eTIV"], frame.loc[study.covariates.index, "eTIV"])
    assert list(study.Y.columns) == APARC_THICKNESS[1:4]
    with pytest.raises(InputError, match="--covariates-from-qt: no column ICVX in the QT table"):
        load_lmm_study(fileset / "g", fileset / "lh.thickness.txt", covariates_from_qt=["ICVX"])


def test_cca_loader_matches_modalities_without_the_global_columns_and_regresses_them_out(fileset):
    thickness = _aparc_table(fileset / "lh.thickness.txt", APARC_THICKNESS)
    _aparc_table(fileset / "lh.area.txt", APARC_AREA, seed=2)
    log = ReadLog()
    study = load_cca_study(fileset / "g", [fileset / "lh.thickness.txt", fileset / "lh.area.txt"],
                           covariates_from_qt=["eTIV"], log=log)
    assert study.regions == ["lh_bankssts", "lh_caudalanteriorcingulate", "lh_insula"]
    eTIV = thickness.loc[study.Ys[0].index, "eTIV"].to_numpy()
    design = np.column_stack([np.ones(30), eTIV])
    for Y in study.Ys:                                   # residuals are orthogonal to [1, eTIV]
        np.testing.assert_allclose(design.T @ Y.to_numpy() / np.abs(design).sum(axis=0)[:, None], 0, atol=1e-12)
    assert any("covariates eTIV regressed out of every modality" in line for line in log.lines)


def test_cca_modalities_with_the_same_file_name_are_named_by_their_folders(fileset):
    for hemisphere in ("lh", "rh"):
        (fileset / hemisphere).mkdir(exist_ok=True)
        _aparc_table(fileset / hemisphere / "thickness.txt", APARC_THICKNESS)
    study = load_cca_study(fileset / "g", [fileset / "lh" / "thickness.txt", fileset / "rh" / "thickness.txt"])
    assert study.modalities == ["lh/thickness", "rh/thickness"]
    with pytest.raises(InputError, match="is given twice as a QT table"):
        load_cca_study(fileset / "g", [fileset / "lh" / "thickness.txt", fileset / "lh" / ".." / "lh" / "thickness.txt"])
