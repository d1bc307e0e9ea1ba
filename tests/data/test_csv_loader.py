"""load_csv: a round trip, label handling, and one test per error message (naming row and column)."""

import csv

import numpy as np
import pytest

from chainrule.data import load_csv
from chainrule.errors import ConfigError, DataError


def write(tmp_path, text, name="data.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3)) * 10.0 ** rng.integers(-5, 5, size=(40, 3))
    y = rng.integers(0, 3, size=40)
    path = tmp_path / "round.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["a", "label", "b", "c"])
        for row, label in zip(X, y, strict=True):
            writer.writerow([repr(float(row[0])), int(label), repr(float(row[1])), repr(float(row[2]))])
    X_read, y_read, meta = load_csv(path, label="label")
    assert X_read.dtype == np.float64 and np.array_equal(X_read, X)  # repr of a float64 reads back exactly
    assert y_read.dtype == np.int64 and np.array_equal(y_read, y)
    assert meta["features"] == ["a", "b", "c"] and meta["label"] == "label"
    assert meta["task"] == "classification" and meta["classes"] == [0, 1, 2]
    assert meta["path"] == str(path)


def test_string_labels_become_sorted_class_indices(tmp_path):
    path = write(tmp_path, "x,species\n1,versicolor\n2,setosa\n3,virginica\n4,setosa\n")
    X, y, meta = load_csv(path, label="species")
    assert meta["classes"] == ["setosa", "versicolor", "virginica"]
    assert meta["class_index"] == {"setosa": 0, "versicolor": 1, "virginica": 2}
    assert y.tolist() == [1, 0, 2, 0] and X[:, 0].tolist() == [1, 2, 3, 4]


def test_integer_labels_are_mapped_in_numeric_order(tmp_path):
    path = write(tmp_path, "x,label\n0,10\n1,9\n2,-1\n3,9.0\n")
    _, y, meta = load_csv(path, label="label")
    assert meta["classes"] == [-1, 9, 10] and y.tolist() == [2, 1, 0, 1]


def test_auto_reads_fractional_or_many_valued_labels_as_regression(tmp_path):
    _, y, meta = load_csv(write(tmp_path, "x,t\n1,0.5\n2,1.25\n"), label="t")
    assert meta["task"] == "regression" and meta["classes"] is None
    assert y.shape == (2, 1) and y.dtype == np.float64 and y[:, 0].tolist() == [0.5, 1.25]
    many = "x,t\n" + "".join(f"{i},{i}\n" for i in range(21))
    assert load_csv(write(tmp_path, many, "many.csv"), label="t")[2]["task"] == "regression"


def test_task_can_be_forced(tmp_path):
    path = write(tmp_path, "x,t\n1,0\n2,1\n")
    _, y, meta = load_csv(path, label="t", task="regression")
    assert meta["task"] == "regression" and y.tolist() == [[0.0], [1.0]]
    with pytest.raises(ConfigError, match=r"load_csv\(task\): expected one of .auto., .classification."):
        load_csv(path, label="t", task="clasification")


def test_feature_subset_order_and_no_label(tmp_path):
    path = write(tmp_path, "a,b,c,y\n1,2,3,0\n4,5,6,1\n")
    X, _, meta = load_csv(path, label="y", features=["c", "a"])
    assert X.tolist() == [[3, 1], [6, 4]] and meta["features"] == ["c", "a"]
    X, y, meta = load_csv(path, label=None)
    assert X.shape == (2, 4) and y is None and meta["task"] is None


def test_bom_quotes_spaces_and_blank_lines(tmp_path):
    path = write(tmp_path, '\ufeff"x 1", label \n\n 1.5 ,"cat"\n\n2,dog\n', encoding="utf-8")
    X, y, meta = load_csv(path, label="label")
    assert meta["features"] == ["x 1"] and X[:, 0].tolist() == [1.5, 2.0] and y.tolist() == [0, 1]


# One test per error message. Rows are counted from 1 with the header as row 1.

def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv: file not found"):
        load_csv(tmp_path / "nope.csv", label="y")


def test_directory(tmp_path):
    with pytest.raises(DataError, match="is a directory"):
        load_csv(tmp_path, label="y")


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_file(tmp_path, text):
    with pytest.raises(DataError, match=r"data\.csv: file is empty"):
        load_csv(write(tmp_path, text), label="y")


def test_no_header(tmp_path):
    with pytest.raises(DataError, match=r"data\.csv: no header row: row 1 is all numbers \(1, 2, 0\)"):
        load_csv(write(tmp_path, "1,2,0\n3,4,1\n"), label="y")


def test_header_without_rows(tmp_path):
    with pytest.raises(DataError, match="has a header but no data rows"):
        load_csv(write(tmp_path, "x,y\n"), label="y")


def test_duplicate_and_empty_column_names(tmp_path):
    with pytest.raises(DataError, match=r"header row 1 names column 'x' twice \(columns 1 and 3\)"):
        load_csv(write(tmp_path, "x,y,x\n1,2,3\n"), label="y")
    with pytest.raises(DataError, match="header row 1 has an empty name in column 2"):
        load_csv(write(tmp_path, "x,,y\n1,2,3\n"), label="y")


def test_label_column_not_found_suggests_closest(tmp_path):
    path = write(tmp_path, "sepal,species\n1,a\n")
    with pytest.raises(DataError, match=r"label column 'specis' not found \(did you mean 'species'\?\); "
                                        r"columns are: sepal, species"):
        load_csv(path, label="specis")


def test_feature_column_not_found(tmp_path):
    with pytest.raises(DataError, match=r"feature column 'sepl' not found \(did you mean 'sepal'\?\)"):
        load_csv(write(tmp_path, "sepal,species\n1,a\n"), label="species", features=["sepl"])


def test_label_used_as_feature(tmp_path):
    with pytest.raises(DataError, match="column 'y' is both the label and a feature"):
        load_csv(write(tmp_path, "x,y\n1,0\n"), label="y", features=["x", "y"])


def test_ragged_row(tmp_path):
    with pytest.raises(DataError, match=r"data\.csv: row 3 has 2 fields but the header has 3"):
        load_csv(write(tmp_path, "a,b,y\n1,2,0\n3,4\n"), label="y")


def test_non_numeric_value_names_row_and_column(tmp_path):
    with pytest.raises(DataError, match=r"data\.csv: row 4, column 'b': non-numeric value 'abc'"):
        load_csv(write(tmp_path, "a,b,y\n1,2,0\n3,4,1\n5,abc,0\n"), label="y")


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-Infinity"])
def test_nan_and_inf_name_row_and_column(tmp_path, cell):
    with pytest.raises(DataError, match=rf"row 3, column 'a': '{cell}' is not a finite number"):
        load_csv(write(tmp_path, f"a,b,y\n1,2,0\n{cell},4,1\n"), label="y")


def test_empty_cell_names_row_and_column(tmp_path):
    with pytest.raises(DataError, match=r"row 2, column 'b': empty cell; expected a number"):
        load_csv(write(tmp_path, "a,b,y\n1, ,0\n"), label="y")


def test_row_numbers_count_blank_lines_as_a_spreadsheet_does(tmp_path):
    with pytest.raises(DataError, match="row 4, column 'a'"):
        load_csv(write(tmp_path, "a,y\n\n1,0\nx,1\n"), label="y")


def test_empty_label_cell(tmp_path):
    with pytest.raises(DataError, match=r"row 3, column 'y': empty label cell"):
        load_csv(write(tmp_path, "a,y\n1,0\n2,\n"), label="y")


def test_non_integer_class_label(tmp_path):
    with pytest.raises(DataError, match=r"row 3, column 'y': class label '0\.5' is not an integer"):
        load_csv(write(tmp_path, "a,y\n1,0\n2,0.5\n"), label="y", task="classification")


def test_non_numeric_regression_target(tmp_path):
    with pytest.raises(DataError, match=r"row 2, column 'y': non-numeric value 'big'"):
        load_csv(write(tmp_path, "a,y\n1,big\n"), label="y", task="regression")


def test_not_utf8(tmp_path):
    with pytest.raises(DataError, match="not UTF-8 text"):
        load_csv(write(tmp_path, "a,y\n1,\xe9t\xe9\n", encoding="latin-1"), label="y")


def test_errors_are_one_line(tmp_path):
    with pytest.raises(DataError) as info:
        load_csv(write(tmp_path, "a,b,y\n1,zz,0\n"), label="y")
    assert "\n" not in str(info.value)
