"""The pure template helpers: changed paths, references, literal names."""
from __future__ import annotations

from bgctl.change_safety.diff import changed_paths, imports, is_literal, paths_where, references


def test_changed_paths() -> None:
    old = {"Port": 80, "Actions": [{"Type": "forward", "Arn": {"Ref": "Blue"}}], "Tags": [1, 2], "Gone": 1}
    new = {"Port": 81, "Actions": [{"Type": "forward", "Arn": {"Ref": "Green"}}], "Tags": [1, 2, 3], "New": 1}
    assert changed_paths(old, new) == ["Actions/0/Arn", "Gone", "New", "Port", "Tags"]
    assert changed_paths(old, old) == []
    join = {"Fn::Join": ["", ["a", {"Ref": "X"}]]}
    assert changed_paths({"V": join}, {"V": {"Fn::Join": ["", ["b", {"Ref": "X"}]]}}) == ["V"]  # intrinsic = one value


def test_references() -> None:
    value = {"A": {"Ref": "Vpc"}, "B": {"Fn::GetAtt": ["Lb", "DNSName"]}, "C": {"Fn::GetAtt": "Tg.Name"},
             "D": {"Fn::Sub": "arn:${AWS::Partition}:x:${Fn}:${Role.Arn}"},
             "E": {"Fn::Sub": ["${Local}-${Queue}", {"Local": "x"}]}, "F": {"Ref": "AWS::Region"}}
    assert references(value) == {"Vpc", "Lb", "Tg", "Fn", "Role", "Queue"}


def test_paths_where() -> None:
    value = {"Subnets": [{"Ref": "A"}, {"Ref": "B"}], "Name": "x", "Vpc": {"Fn::ImportValue": "P:Vpc"}}
    assert paths_where(value, lambda v: "A" in references(v)) == ["Subnets/0"]
    assert paths_where(value, lambda v: "P:Vpc" in list(imports(v))) == ["Vpc"]


def test_is_literal() -> None:
    assert is_literal("bluegreen-order")
    assert is_literal({"Fn::Join": ["-", ["p", {"Ref": "AWS::Region"}]]})
    assert is_literal({"Fn::Sub": "p-${AWS::AccountId}"})
    assert not is_literal({"Ref": "Bucket"})
    assert not is_literal({"Fn::Join": ["-", ["p", {"Ref": "Bucket"}]]})
    assert not is_literal({"Fn::ImportValue": "P:Name"})


def test_describe_name() -> None:
    from bgctl.change_safety.resources import describe_name

    assert describe_name("p-order") == "p-order"
    assert describe_name({"Fn::Join": ["-", ["p", {"Ref": "AWS::Region"}, 3]]}) == "p-${AWS::Region}-3"
    assert describe_name({"Fn::Sub": "p-${AWS::AccountId}"}) == "p-${AWS::AccountId}"
    assert describe_name({"Fn::Join": "odd"}) == "{'Fn::Join': 'odd'}"
