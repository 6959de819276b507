"""Confidence of each customer-linking rule and case: the share of its links that were right.

Written by ``bench/calibrate.py`` from the labelled and generated sets (see there); do not
edit by hand: ``tests/nlp/test_calibration.py`` checks this table against the script's
output. A link at confidence c was right about c of the time on those sets, so
``nlp.review_below`` is the share right under which a link waits for a manager.
"""

CONFIDENCE: dict[str, float] = {
    "author_handle": 0.99,  # 58 links, 58 right
    "email": 0.97,  # 9 links, 9 right
    "mentioned_handle": 0.97,  # 28 links, 28 right
    "company_name": 0.99,  # 748 links, 748 right
    "mail_domain": 0.93,  # 17 links, 17 right
    "domain": 0.9,  # 14 links, 14 right
    "person_name": 0.99,  # 858 links, 858 right
    "alias": 0.84,  # 6 links, 6 right
    "employer": 0.86,  # 15 links, 15 right
    "handle_other_platform": 0.14,  # 28 links, 0 right
    "author_name": 0.5,  # 0 links, 0 right
    "author_other_platform": 0.11,  # 28 links, 0 right
    "ambiguous_capitalised": 0.06,  # 164 links, 6 right
    "lowercase_with_context": 0.05,  # 655 links, 0 right
    "lowercase_word": 0.27,  # 3 links, 0 right
    "shared_name": 0.11,  # 6802 links, 750 right
    "fuzzy": 0.89,  # 26 links, 26 right
    "fuzzy_weak": 0.26,  # 9 links, 0 right
    "hashtag": 0.99,  # 797 links, 797 right
    "hashtag_one_word": 0.7,  # 0 links, 0 right
    "spelt_handle": 0.7,  # 0 links, 0 right
    "spelt_domain": 0.7,  # 0 links, 0 right
    "spelt_one_word": 0.55,  # 0 links, 0 right
    "common_person_name": 0.4,  # 897 links, 361 right
    "lowercase_name_with_cue": 0.91,  # 44 links, 44 right
    "common_person_hashtag_with_cue": 0.74,  # 9 links, 9 right
    "shared_name_picked": 0.81,  # 3 links, 3 right
    "ambiguous_with_legal_form": 0.69,  # 6 links, 6 right
    "ambiguous_with_service_cue": 0.45,  # 19 links, 8 right
}
