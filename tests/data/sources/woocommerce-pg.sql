-- The same WooCommerce HPOS tables in PostgreSQL (a shop that keeps a
-- replica of its WooCommerce tables there), prefix wp_.
CREATE TABLE wp_wc_orders (
  id bigint PRIMARY KEY, status varchar(20), currency varchar(10), type varchar(20),
  tax_amount numeric(26,8), total_amount numeric(26,8), customer_id bigint,
  billing_email varchar(320), date_created_gmt timestamp, date_updated_gmt timestamp,
  parent_order_id bigint, payment_method varchar(100), customer_note text);
CREATE INDEX wp_wc_orders_date_updated ON wp_wc_orders (date_updated_gmt, id);
CREATE INDEX wp_wc_orders_type_status_date ON wp_wc_orders (type, status, date_created_gmt);
CREATE TABLE wp_wc_order_addresses (
  id bigserial PRIMARY KEY, order_id bigint NOT NULL, address_type varchar(20),
  first_name text, last_name text, company text, address_1 text, address_2 text, city text,
  state text, postcode text, country text, email varchar(320), phone varchar(100),
  UNIQUE (address_type, order_id));
CREATE INDEX wp_wc_order_addresses_order ON wp_wc_order_addresses (order_id);
CREATE TABLE wp_wc_order_operational_data (
  id bigserial PRIMARY KEY, order_id bigint UNIQUE, created_via varchar(100),
  order_key varchar(100), date_paid_gmt timestamp, date_completed_gmt timestamp);
CREATE TABLE wp_woocommerce_order_items (
  order_item_id bigserial PRIMARY KEY, order_item_name text NOT NULL,
  order_item_type varchar(200) NOT NULL DEFAULT '', order_id bigint NOT NULL);
CREATE INDEX wp_woocommerce_order_items_order ON wp_woocommerce_order_items (order_id);
CREATE TABLE wp_woocommerce_order_itemmeta (
  meta_id bigserial PRIMARY KEY, order_item_id bigint NOT NULL, meta_key varchar(255),
  meta_value text);
CREATE INDEX wp_woocommerce_order_itemmeta_item ON wp_woocommerce_order_itemmeta (order_item_id);
CREATE TABLE wp_comments (
  comment_ID bigserial PRIMARY KEY, comment_post_ID bigint NOT NULL DEFAULT 0,
  comment_author text NOT NULL DEFAULT '', comment_author_email varchar(100) NOT NULL DEFAULT '',
  comment_date_gmt timestamp NOT NULL, comment_content text NOT NULL DEFAULT '',
  comment_approved varchar(20) NOT NULL DEFAULT '1', comment_type varchar(20) NOT NULL DEFAULT 'comment',
  user_id bigint NOT NULL DEFAULT 0);
CREATE INDEX wp_comments_date_gmt ON wp_comments (comment_date_gmt);
CREATE TABLE wp_commentmeta (
  meta_id bigserial PRIMARY KEY, comment_id bigint NOT NULL DEFAULT 0, meta_key varchar(255),
  meta_value text);
CREATE INDEX wp_commentmeta_comment ON wp_commentmeta (comment_id);
