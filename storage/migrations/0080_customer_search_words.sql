-- Customer search by word prefix (domain/customer_search.py): the folded words of each
-- customer's name, company, e-mail addresses and handles, one row per word, read by an index
-- range per typed term instead of a LIKE '%q%' scan of the registry per keystroke.  name_fold
-- (the folded name) ranks and orders the results; its index reads "names starting with q".
-- Each word row carries the folded name too, so the customers matching a term come from the
-- word table's key alone, already keyed by name, without reading one customer row per match.
-- The write path (storage/sqlite/customers.py) keeps both in step; here they are filled for
-- the customers stored before, with the same folding (customer_search_words and
-- customer_name_fold are the domain's functions, registered on every connection).
ALTER TABLE customers ADD COLUMN name_fold TEXT NOT NULL DEFAULT '';
UPDATE customers SET name_fold = customer_name_fold(name);
CREATE INDEX customers_name_fold ON customers (name_fold, id);
CREATE TABLE customer_words (
    word        TEXT NOT NULL,
    name_fold   TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    PRIMARY KEY (word, name_fold, customer_id)
) WITHOUT ROWID;
CREATE INDEX customer_words_customer ON customer_words (customer_id);
INSERT OR IGNORE INTO customer_words (word, name_fold, customer_id)
SELECT w.value, c.name_fold, c.id
FROM customers AS c,
     json_each(customer_search_words(
         c.name, c.company, c.emails,
         (SELECT json_group_array(i.handle) FROM customer_identities AS i WHERE i.customer_id = c.id))) AS w;
