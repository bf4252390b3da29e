from vlmbench.suggest import close_names, did_you_mean, spelling_key, suggest


def test_spellings_that_differ_in_case_and_separators_are_one_name():
    assert spelling_key("Exact-Match") == spelling_key("exact_match") == spelling_key("exact match") == "exactmatch"


def test_a_near_miss_is_found_through_its_spelling_and_an_alias_names_its_target():
    assert close_names("Exact_Mach", ["exact_match", "anls"]) == ["exact_match"]
    assert close_names("overal", ["general"], aliases={"overall": "general"}) == ["general"]


def test_the_hint_offers_close_names_or_nothing():
    assert did_you_mean("tesseract-engl", ["tesseract-eng", "easyvqa-tiny"]) == "did you mean tesseract-eng?"
    assert did_you_mean("zzz", ["tesseract-eng"]) == ""
    assert suggest("cerr", ["cer", "wer", "anls"]) == "did you mean cer? known: cer, wer, anls"
    assert did_you_mean("by_dc_tpe", ["by_doc_type", "by_doc_tipe"]) == "did you mean by_doc_type or by_doc_tipe?"
    assert suggest("zzz", ["cer"]) == "known: cer"
