#!/bin/sh
# sources-presets.sh - the WooCommerce legacy, Magento 2 and PrestaShop 8
# presets against a MariaDB of the test's own: each platform's tables,
# orders in its real status values, reviews in its own tables; checked
# through `candorctl sources --test` (nothing written) and the store
# after `candord --once` (status, dates, locale, items, customer, the
# review matched to its order; a low one starting the apology).
. "${top_srcdir:-.}/tests/integration/lib.sh"
. "$SRCDIR/tests/integration/dbservers.sh"

command -v mariadbd >/dev/null || skip_all "mariadb-server is not installed (scripts/install-deps)"
cd "$WORK" || exit 1
start_mariadb "$WORK/my" || skip_all "mariadb would not start (see its log above)"
printf 'ro-s3cret\n' > pw
chmod 600 pw
ago() { date -u -d "-$1" +"%Y-%m-%d %H:%M:%S"; }

# shop DB PRESET SCHEMA...: a database with the platform's tables, a
# user with exactly the read-only grants README documents for PRESET
# (tests/data/sources/grants-PRESET.sql), and a config reading it
# through PRESET into DB.db
shop() {
	db=$1 preset=$2
	shift 2
	my_root -e "CREATE DATABASE $db; CREATE USER IF NOT EXISTS 'candor'@'127.0.0.1' IDENTIFIED BY 'ro-s3cret';"
	for f in "$@"; do my_root "$db" < "$SRCDIR/tests/data/sources/$f"; done
	sed "s/ON [a-z]*\./ON $db./" "$SRCDIR/tests/data/sources/grants-$preset.sql" | my_root
	write_config "$db.conf" "sources = ( { name = \"$db\"; type = \"sql\"; driver = \"mariadb\";
  preset = \"$preset\"; port = $MY_PORT; password_file = \"$WORK/pw\"; database = \"$db\";
  tls = \"none\"; } );"
	sed -i "s|^database = .*|database = \"$db.db\";|" "$db.conf"
	sed -i 's/^campaigns = ($/campaigns = (\n  { name = "apology"; trigger = "negative_feedback"; delay = "0s"; expire = "60d"; max_rating = 2;\n    variants = ( { name = "A"; template = "apology"; } ); },/' "$db.conf"
	"$CANDORCTL" -c "$db.conf" init >/dev/null
}
field() { sqlite3 "$1.db" "SELECT $3 FROM orders WHERE order_id = '$2'"; }

# ---- WooCommerce, posts and postmeta
my_root -e "DROP USER IF EXISTS 'candor'@'127.0.0.1'"
shop legacy woocommerce_legacy woocommerce.sql woocommerce_legacy.sql
legacy_order() { # ID STATUS EMAIL UPDATED-AGO [COMPLETED-UNIX]
	cat <<EOS
INSERT INTO wp_posts (ID, post_date, post_date_gmt, post_status, post_modified, post_modified_gmt, post_type)
  VALUES ($1, '$(ago "3 days")', '$(ago "3 days")', '$2', '$(ago "$4")', '$(ago "$4")', 'shop_order');
INSERT INTO wp_postmeta (post_id, meta_key, meta_value) VALUES ($1, '_billing_email', '$3'),
  ($1, '_billing_first_name', 'Jo'), ($1, '_billing_last_name', 'Legacy'), ($1, '_billing_country', 'FR'),
  ($1, '_shipping_country', ''), ($1, '_order_total', '19.90'), ($1, '_order_currency', 'EUR'),
  ($1, '_customer_user', '0'), ($1, '_date_completed', '${5:-}');
INSERT INTO wp_woocommerce_order_items (order_item_name, order_item_type, order_id) VALUES ('Oolong', 'line_item', $1);
INSERT INTO wp_woocommerce_order_itemmeta (order_item_id, meta_key, meta_value)
  VALUES (LAST_INSERT_ID(), '_qty', '1'), (LAST_INSERT_ID(), '_product_id', '77');
EOS
}
{
	legacy_order 501 wc-completed jo@example.org "2 days" "$(date -d '-2 days' +%s)"
	legacy_order 502 wc-on-hold kim@example.org "1 day"
	legacy_order 503 wc-cancelled lee@example.org "1 day"
	echo "INSERT INTO wp_posts (ID, post_status, post_modified_gmt, post_type) VALUES (504, 'publish', '$(ago '1 day')', 'product');"
	echo "INSERT INTO wp_comments (comment_post_ID, comment_author, comment_author_email, comment_date, comment_date_gmt, comment_content, comment_type, comment_approved)
	  VALUES (77, 'Jo', 'jo@example.org', '$(ago '1 hour')', '$(ago '1 hour')', 'Too bitter', 'review', '0');
	  INSERT INTO wp_commentmeta (comment_id, meta_key, meta_value) VALUES (LAST_INSERT_ID(), 'rating', '2');
	  INSERT INTO wp_comments (comment_post_ID, comment_author, comment_author_email, comment_date, comment_date_gmt, comment_content, comment_type, comment_approved)
	  VALUES (77, 'Spam', 'spam@example.org', '$(ago '1 hour')', '$(ago '1 hour')', 'buy', 'review', 'spam');
	  INSERT INTO wp_commentmeta (comment_id, meta_key, meta_value) VALUES (LAST_INSERT_ID(), 'rating', '1');"
} | my_root legacy
"$CANDORCTL" -c legacy.conf sources --test legacy > legacy.out 2>&1
check "legacy: --test maps a completed order" grep -q '^order 501: jo@example.org (Jo Legacy) status shipped locale fr-FR country FR total 19.90 EUR .*shipped .*items \[{"name":"Oolong","quantity":1}\]' legacy.out
"$CANDORD" -c legacy.conf --once 2>legacy.log
check "legacy: only shop orders, statuses mapped" [ "$(sqlite3 legacy.db "SELECT group_concat(order_id || ':' || status, ' ') FROM (SELECT * FROM orders ORDER BY order_id)")" = "501:shipped 502:open 503:cancelled" ]
check "legacy: the completion time is the shipping time" [ "$(field legacy 501 'shipped > 0')" = 1 ]
check "legacy: a review awaiting moderation counts, spam does not" [ "$(sqlite3 legacy.db "SELECT group_concat(order_id || ':' || rating) FROM feedback")" = "501:2" ]
check "legacy: the rating of 2 starts the apology" [ "$(sqlite3 legacy.db "SELECT count(*) FROM messages WHERE order_id = '501' AND campaign = 'apology'")" -eq 1 ]

# ---- Magento 2
my_root -e "DROP USER 'candor'@'127.0.0.1'"
shop magento magento2 magento2.sql
mago() { # ENTITY INCREMENT STATUS EMAIL CUSTOMER UPDATED-AGO [CREATED-AGO]
	cat <<EOS
INSERT INTO sales_order (entity_id, state, status, store_id, customer_id, grand_total, increment_id,
  customer_email, customer_firstname, customer_lastname, order_currency_code, created_at, updated_at)
  VALUES ($1, '$3', '$3', 1, $5, 59.00, '$2', '$4', $( [ "$5" = NULL ] && echo "NULL, NULL" || echo "'Max', 'Muster'"), 'EUR',
  '$(ago "${7:-4 days}")', '$(ago "$6")');
INSERT INTO sales_order_address (parent_id, firstname, lastname, country_id, address_type)
  VALUES ($1, 'Max', 'Muster', 'AT', 'shipping'), ($1, 'Guest', 'Buyer', 'AT', 'billing');
INSERT INTO sales_order_item (order_id, parent_item_id, product_id, sku, name, qty_ordered)
  VALUES ($1, NULL, 900, 'SKU-900', 'Teapot "Kyusu" \\\\ 0.3l', 2.0000);
EOS
}
{
	echo "INSERT INTO core_config_data (scope, scope_id, path, value) VALUES ('default', 0, 'general/locale/code', 'en_US'), ('stores', 1, 'general/locale/code', 'de_AT');"
	echo "INSERT INTO review_entity (entity_id, entity_code) VALUES (1, 'product'), (2, 'customer');"
	mago 1 000000101 complete max@example.org 42 "2 days"
	mago 2 000000102 closed max@example.org 42 "1 day" "2 days"
	mago 3 000000103 processing guest@example.org NULL "1 day"
	mago 4 000000104 canceled max@example.org 42 "1 day"
	mago 5 000000105 fraud max@example.org 42 "1 day"
	echo "INSERT INTO sales_shipment (order_id, created_at) VALUES (1, '$(ago "2 days")');"
	echo "INSERT INTO review (review_id, created_at, entity_id, entity_pk_value, status_id) VALUES (7, '$(ago '1 hour')', 1, 900, 2);
	  INSERT INTO review_detail (review_id, store_id, title, detail, nickname, customer_id) VALUES (7, 1, 'Cracked', 'It arrived cracked.', 'max', 42);
	  INSERT INTO rating_option_vote (option_id, remote_ip, customer_id, entity_pk_value, rating_id, review_id, percent, value)
	    VALUES (1, '127.0.0.1', 42, 900, 1, 7, 20, 1), (6, '127.0.0.1', 42, 900, 2, 7, 40, 2);"
} | my_root magento
"$CANDORCTL" -c magento.conf sources --test magento > magento.out 2>&1
check "magento: --test maps a complete order" grep -q '^order 000000101: max@example.org (Max Muster) status shipped locale de-AT country AT total 59.00 EUR .*items \[{"name":"Teapot \\"Kyusu\\" \\\\ 0.3l","quantity":2,"sku":"SKU-900"}\]' magento.out
"$CANDORD" -c magento.conf --once 2>magento.log
check "magento: an item name with quotes and a backslash is JSON as it should be" \
	[ "$(sqlite3 magento.db "SELECT json_extract(items, '\$[0].name') FROM orders WHERE order_id = '000000101'")" = 'Teapot "Kyusu" \ 0.3l' ]
check "magento: statuses mapped (complete, closed, processing, canceled, fraud)" [ "$(sqlite3 magento.db "SELECT group_concat(status, ' ') FROM (SELECT * FROM orders ORDER BY order_id)")" = "shipped refunded paid cancelled cancelled" ]
check "magento: the shipment's time is the shipping time" [ "$(field magento 000000101 'shipped > 0')" = 1 ]
check "magento: a guest's name from the billing address, customer id kept" [ "$(field magento 000000103 'name')/$(field magento 000000101 'customer_id')" = "Guest Buyer/42" ]
check "magento: the review's votes matched to the customer's order" [ "$(sqlite3 magento.db "SELECT order_id || ':' || rating FROM feedback")" = "000000102:2" ]

# ---- PrestaShop 8
my_root -e "DROP USER 'candor'@'127.0.0.1'"
shop presta prestashop prestashop.sql
ps_order() { # ID CUSTOMER STATE LANG UPDATED-AGO HISTORY-STATES...
	id=$1 cust=$2 state=$3 lang=$4 upd=$5
	shift 5
	echo "INSERT INTO ps_orders (id_order, reference, id_lang, id_customer, id_currency, id_address_delivery, id_address_invoice, current_state, total_paid, date_add, date_upd)
	  VALUES ($id, 'REF$id', $lang, $cust, 1, $cust, $cust, $state, 25.5, '$(ago "5 days")', '$(ago "$upd")');
	  INSERT INTO ps_order_detail (id_order, product_id, product_name, product_quantity, product_reference) VALUES ($id, 300, 'Matcha - 100g', 3, 'MAT-100');"
	# one instant for the whole history: a second passing between two
	# "ago" calls (session 12's CI, under ASan) made a day 86401 s
	h=6 now=$(date -u +%s)
	for s in "$@"; do
		echo "INSERT INTO ps_order_history (id_order, id_order_state, date_add) VALUES ($id, $s, '$(date -u -d "@$((now - h * 86400))" +"%Y-%m-%d %H:%M:%S")');"
		h=$((h - 1))
	done
}
{
	echo "INSERT INTO ps_customer (id_customer, firstname, lastname, email) VALUES (1, 'Lea', 'Lefebvre', 'lea@example.org'), (2, 'Udo', 'Ulm', 'udo@example.org');"
	echo "INSERT INTO ps_address (id_address, id_country, id_customer) VALUES (1, 8, 1), (2, 1, 2);"
	ps_order 1 1 5 2 "1 day" 10 2 4 5
	ps_order 2 2 4 1 "1 day" 2 4
	ps_order 3 2 7 1 "1 day" 2 7
	ps_order 4 2 6 1 "1 day" 6
	ps_order 5 2 10 1 "1 day" 10
	ps_order 6 2 5 1 "1 day" 2 4 5
	ps_order 7 2 99 1 "1 day" 99
	echo "INSERT INTO ps_order_return (id_customer, id_order, question, state, date_add, date_upd) VALUES (2, 6, 'broken', 5, NOW(), NOW());"
	echo "INSERT INTO ps_product_comment (id_product, id_customer, id_guest, title, content, customer_name, grade, validate, deleted, date_add)
	  VALUES (300, 1, 0, 'Bof', 'Pas terrible', 'Lea', 1, 0, 0, '$(ago '2 hours')'),
	         (300, 0, 5, 'Guest', 'Who?', 'Guest', 2, 0, 0, '$(ago '1 hour')');"
} | my_root presta
"$CANDORCTL" -c presta.conf sources --test presta > presta.out 2>&1
check "prestashop: --test maps a delivered order" grep -q '^order 1: lea@example.org (Lea Lefebvre) status delivered locale fr-FR country FR total 25.50 EUR .*shipped .* delivered .*items \[{"name":"Matcha - 100g","quantity":3,"sku":"MAT-100"}\]' presta.out
check "prestashop: a state of a module is a note, not a failure" grep -q 'PrestaShop status "state 99" is not one candor maps' presta.out
check "prestashop: a guest's review matches no order" grep -q 'problem: review 2: matches no order' presta.out
"$CANDORD" -c presta.conf --once 2>presta.log
check "prestashop: states mapped (delivered, shipped, refunded, cancelled, bank wire, returned, unknown)" \
	[ "$(sqlite3 presta.db "SELECT group_concat(status, ' ') FROM (SELECT * FROM orders ORDER BY CAST(order_id AS INTEGER))")" = "delivered shipped refunded cancelled open returned open" ]
check "prestashop: shipping and delivery times from the order history" [ "$(field presta 1 'delivered - shipped')" -eq 86400 ]
check "prestashop: locale from the order's language" [ "$(field presta 2 locale)" = de-DE ]
check "prestashop: the product comment is feedback of Lea's order" [ "$(sqlite3 presta.db "SELECT order_id || ':' || rating FROM feedback")" = "1:1" ]
check "prestashop: the grade of 1 starts the apology" [ "$(sqlite3 presta.db "SELECT count(*) FROM messages WHERE order_id = '1' AND campaign = 'apology'")" -eq 1 ]

# ---- orders deleted outright: each preset's re-check finds them (by the
# platform's own key) and cancels them; nothing else is touched. Each
# preset's grants again (the user was dropped between them), as README
# has them: the re-check reads nothing more.
for g in legacy:woocommerce_legacy magento:magento2; do
	sed "s/ON [a-z]*\./ON ${g%%:*}./" "$SRCDIR/tests/data/sources/grants-${g#*:}.sql" | my_root
done
legacy_order 505 wc-completed max@example.org "1 hour" "$(date -d '-1 hour' +%s)" | my_root legacy
"$CANDORD" -c legacy.conf --once 2>>legacy.log
my_root legacy -e "DELETE FROM wp_posts WHERE ID = 505"
my_root magento -e "DELETE FROM sales_order WHERE increment_id = '000000101'"
my_root presta -e "DELETE FROM ps_orders WHERE id_order = 2"
for db in legacy magento presta; do "$CANDORD" -c $db.conf --once 2>>$db.log; done
check "legacy: an order deleted in the shop is cancelled" [ "$(field legacy 505 status)/$(field legacy 501 status)" = cancelled/shipped ]
check "magento: an order deleted in the shop is cancelled (by increment_id)" \
	[ "$(field magento 000000101 status)/$(sqlite3 magento.db "SELECT count(*) FROM orders WHERE status = 'cancelled'")" = cancelled/3 ]
check "prestashop: an order deleted in the shop is cancelled" [ "$(field presta 2 status)/$(field presta 1 status)" = cancelled/delivered ]
check "no source failed on the way" sh -c '! grep -q "retrying" legacy.log magento.log presta.log'

done_testing
