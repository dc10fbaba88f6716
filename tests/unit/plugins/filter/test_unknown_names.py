"""unknown_names: the names a host sets that no role declares, with the one probably meant."""

from ansible_collections.dtr.cache.plugins.filter.unknown_names import unknown_names

KNOWN = ["dtr_cache_storage", "dtr_cache_state", "dtr_cache_name", "dtr_cache_namespace", "dtr_cache_client_caches"]


def test_known_names_pass_and_a_typo_gets_the_name_meant():
    assert unknown_names(["dtr_cache_storage", "dtr_cache_storge", "dtr_cache_namespce"], KNOWN) == [
        "dtr_cache_namespce (did you mean dtr_cache_namespace?)", "dtr_cache_storge (did you mean dtr_cache_storage?)"]


def test_a_name_like_none_gets_no_suggestion_despite_the_shared_prefix():
    assert unknown_names(["dtr_cache_zzz_unrelated"], KNOWN) == ["dtr_cache_zzz_unrelated"]


def test_nothing_unknown():
    assert unknown_names(KNOWN, KNOWN) == []
