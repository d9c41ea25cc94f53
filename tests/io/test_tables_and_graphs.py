"""QT/covariate tables, subject alignment, adjacency and kinship files, atomic outputs: values and errors."""

import numpy as np
import pytest

from jaxgen.io import (InputError, ReadLog, align_subjects, atomic_output_dir, read_adjacency, read_covariates,
                       read_kinship, read_qt_table)


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_delimiters_and_freesurfer_layout(tmp_path):
    comma = _write(tmp_path, "a.csv", "subject,r1,r2\ns1,1.5,2\ns2,3,4.25\n")
    tab = _write(tmp_path, "lh.thickness.txt",
                 "lh.aparc.thickness\tlh_bankssts_thickness\tlh_cuneus_thickness\ns1\t1.5\t2\ns2\t3\t4.25\n")
    space = _write(tmp_path, "b.txt", "id  r1   r2\ns1  1.5  2\ns2  3    4.25\n")
    expected = np.array([[1.5, 2.0], [3.0, 4.25]])
    for path in (comma, tab, space):
        table = read_qt_table(path)
        np.testing.assert_array_equal(table.to_numpy(), expected)
        assert list(table.index) == ["s1", "s2"]
    assert list(read_qt_table(tab).columns) == ["lh_bankssts_thickness", "lh_cuneus_thickness"]
    by_name = _write(tmp_path, "c.csv", "r1,subject,r2\n1.5,s1,2\n3,s2,4.25\n")
    np.testing.assert_array_equal(read_qt_table(by_name, id_column="subject").to_numpy(), expected)


@pytest.mark.parametrize("text, message", [
    ("subject,r1\ns1,1\ns2,abc\n", r"column 'r1' is not numeric: line 3 \(subject s2\) holds 'abc'"),
    ("subject,r1\ns1,1\ns1,2\n", r"duplicated subject ids in column 'subject': s1 \(lines 2, 3\)"),
    ("subject,r1\ns1,1\ns2,\n", r"1 missing cells in columns r1 \(first: subject s2\)"),
    ("subject,r1\ns1,1\ns2,1\n", "QT columns with no variation across subjects: r1"),
    ("subject,r1\n", "has a header but no subject rows"),
    ("", "the file is empty"),
    ("subject,r1\n,1\ns2,2\n", "line 2 has no subject id"),
])
def test_bad_qt_tables_name_the_file_and_the_problem(tmp_path, text, message):
    path = _write(tmp_path, "qt.csv", text)
    with pytest.raises(InputError, match=message) as err:
        read_qt_table(path)
    assert str(err.value).startswith(str(path))


def test_missing_value_policies(tmp_path):
    path = _write(tmp_path, "qt.csv", "subject,r1,r2\ns1,1,2\ns2,,4\ns3,5,NA\ns4,7,8\n")
    log = ReadLog()
    dropped = read_qt_table(path, missing="drop", log=log)
    assert list(dropped.index) == ["s1", "s4"] and "dropped 2 subjects" in log.lines[0]
    imputed = read_qt_table(path, missing="mean")
    np.testing.assert_array_equal(imputed.to_numpy(), [[1, 2], [13 / 3, 4], [5, 14 / 3], [7, 8]])
    with pytest.raises(InputError, match="no column r9"):
        read_qt_table(path, columns=["r9"], missing="mean")


def test_covariates_one_hot_encode_categories(tmp_path):
    path = _write(tmp_path, "cov.csv", "subject,age,site,sex\ns1,50,B,F\ns2,61,A,M\ns3,70,C,M\ns4,55,A,F\n")
    table = read_covariates(path)
    assert list(table.columns) == ["age", "site_B", "site_C", "sex_M"]
    np.testing.assert_array_equal(table.to_numpy(), [[50, 1, 0, 0], [61, 0, 0, 1], [70, 0, 1, 1], [55, 0, 0, 0]])
    constant = _write(tmp_path, "k.csv", "subject,age,batch\ns1,1,x\ns2,2,x\n")
    with pytest.raises(InputError, match="constant covariates"):
        read_covariates(constant)


def test_alignment_is_an_inner_join_in_genotype_order():
    log = ReadLog()
    ids = align_subjects({"g.bed": ["a", "b", "c", "d", "e"], "qt.csv": ["e", "d", "b", "a", "x"]}, log)
    assert ids == ["a", "b", "d", "e"]
    assert any("qt.csv: 1 of 5 subjects" in line for line in log.lines)
    with pytest.raises(InputError, match="no subject is in every input.*g.bed has 2.*qt.csv has 2"):
        align_subjects({"g.bed": ["a", "b"], "qt.csv": ["c", "d"]})


def test_adjacency_matrix_and_edge_list_agree(tmp_path):
    matrix = _write(tmp_path, "m.csv", ",B,A,C\nA,1,0,2\nB,0,1,0\nC,0,2,0\n")
    edges = _write(tmp_path, "e.csv", "region_a,region_b,weight\nA,B,1\nC,A,2\n")
    plain = _write(tmp_path, "p.txt", "A B\nA C\n")
    A1, names1 = read_adjacency(matrix, regions=["A", "B", "C"])
    A2, _ = read_adjacency(edges, regions=["A", "B", "C"])
    np.testing.assert_array_equal(A1, [[0, 1, 2], [1, 0, 0], [2, 0, 0]])
    np.testing.assert_array_equal(A1, A2)
    A3, names3 = read_adjacency(plain)
    assert names3 == ["A", "B", "C"] and A3.sum() == 4


@pytest.mark.parametrize("text, regions, message", [
    (",A,B,C\nA,0,1,0\nB,2,0,1\nC,0,1,0\n", None, r"must be symmetric: entry \('A', 'B'\) = 1.0 but \('B', 'A'\) = 2.0"),
    ("A,B\nB,A\n", ["A", "B", "C"], r"isolated regions \(no neighbour\), 'C'"),
    ("A,A\nA,B\n", None, "line 1: edge from region 'A' to itself"),
    ("A,B\nB,Z\n", ["A", "B"], "regions not among the QT columns: Z"),
    (",A,B,C\nA,0,1,x\nB,1,0,1\nC,x,1,0\n", None, r"entry \(A, C\) is not a number"),
])
def test_bad_adjacency_files(tmp_path, text, regions, message):
    path = _write(tmp_path, "adj.csv", text)
    with pytest.raises(InputError, match=message):
        read_adjacency(path, regions=regions)


def test_kinship_file_is_reordered_and_checked(tmp_path):
    good = _write(tmp_path, "k.csv", ",b,a\nb,1,0.5\na,0.5,1\n")
    np.testing.assert_array_equal(read_kinship(good, ["a", "b"]), [[1, 0.5], [0.5, 1]])
    with pytest.raises(InputError, match="1 subjects have no kinship row: c"):
        read_kinship(good, ["a", "c"])
    bad = _write(tmp_path, "bad.csv", ",a,b\na,1,2\nb,2,1\n")
    with pytest.raises(InputError, match=r"bad.csv: kinship is not positive semi-definite: smallest eigenvalue -1"):
        read_kinship(bad, ["a", "b"])


def test_atomic_output_leaves_nothing_on_failure(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with atomic_output_dir(out) as folder:
            (folder / "half.csv").write_text("x")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with atomic_output_dir(out) as folder:
        (folder / "done.csv").write_text("x")
    assert [p.name for p in out.iterdir()] == ["done.csv"] and len(list(tmp_path.iterdir())) == 1
    with pytest.raises(ValueError, match="already holds files"):
        with atomic_output_dir(out):
            pass
    with atomic_output_dir(out, overwrite=True) as folder:
        (folder / "new.csv").write_text("y")
    assert [p.name for p in out.iterdir()] == ["new.csv"]
