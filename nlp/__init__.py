"""NLP: the spaCy pipeline that ties posts to known customers (and later topics, sentiment, intent).

Nothing here touches storage or the network: customers come in, analyses go out.
"""
