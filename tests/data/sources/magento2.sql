-- Magento 2's order, shipment, configuration and review tables, with the
-- columns candor reads (types and indexes as Magento declares them).
CREATE TABLE sales_order (
  entity_id int unsigned NOT NULL AUTO_INCREMENT,
  state varchar(32) DEFAULT NULL,
  status varchar(32) DEFAULT NULL,
  store_id smallint unsigned DEFAULT NULL,
  customer_id int unsigned DEFAULT NULL,
  grand_total decimal(20,4) DEFAULT NULL,
  increment_id varchar(32) DEFAULT NULL,
  customer_email varchar(128) DEFAULT NULL,
  customer_firstname varchar(128) DEFAULT NULL,
  customer_lastname varchar(128) DEFAULT NULL,
  customer_is_guest smallint unsigned DEFAULT NULL,
  order_currency_code varchar(255) DEFAULT NULL,
  created_at timestamp NOT NULL DEFAULT current_timestamp(),
  updated_at timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
  PRIMARY KEY (entity_id),
  UNIQUE KEY SALES_ORDER_INCREMENT_ID_STORE_ID (increment_id, store_id),
  KEY SALES_ORDER_STATUS (status),
  KEY SALES_ORDER_STATE (state),
  KEY SALES_ORDER_STORE_ID (store_id),
  KEY SALES_ORDER_CREATED_AT (created_at),
  KEY SALES_ORDER_CUSTOMER_ID (customer_id),
  KEY SALES_ORDER_UPDATED_AT (updated_at)
);
CREATE TABLE sales_order_address (
  entity_id int unsigned NOT NULL AUTO_INCREMENT,
  parent_id int unsigned DEFAULT NULL,
  firstname varchar(255) DEFAULT NULL,
  lastname varchar(255) DEFAULT NULL,
  email varchar(255) DEFAULT NULL,
  country_id varchar(2) DEFAULT NULL,
  address_type varchar(255) DEFAULT NULL,
  PRIMARY KEY (entity_id),
  KEY SALES_ORDER_ADDRESS_PARENT_ID (parent_id)
);
CREATE TABLE sales_order_item (
  item_id int unsigned NOT NULL AUTO_INCREMENT,
  order_id int unsigned NOT NULL DEFAULT 0,
  parent_item_id int unsigned DEFAULT NULL,
  product_id int unsigned DEFAULT NULL,
  sku varchar(255) DEFAULT NULL,
  name varchar(255) DEFAULT NULL,
  qty_ordered decimal(12,4) DEFAULT 0.0000,
  PRIMARY KEY (item_id),
  KEY SALES_ORDER_ITEM_ORDER_ID (order_id)
);
CREATE TABLE sales_shipment (
  entity_id int unsigned NOT NULL AUTO_INCREMENT,
  order_id int unsigned NOT NULL,
  created_at timestamp NOT NULL DEFAULT current_timestamp(),
  PRIMARY KEY (entity_id),
  KEY SALES_SHIPMENT_ORDER_ID (order_id)
);
CREATE TABLE core_config_data (
  config_id int unsigned NOT NULL AUTO_INCREMENT,
  scope varchar(8) NOT NULL DEFAULT 'default',
  scope_id int NOT NULL DEFAULT 0,
  path varchar(255) NOT NULL DEFAULT 'general',
  value text DEFAULT NULL,
  PRIMARY KEY (config_id),
  UNIQUE KEY CORE_CONFIG_DATA_SCOPE_SCOPE_ID_PATH (scope, scope_id, path)
);
CREATE TABLE review_entity (
  entity_id smallint unsigned NOT NULL AUTO_INCREMENT,
  entity_code varchar(32) NOT NULL,
  PRIMARY KEY (entity_id)
);
CREATE TABLE review (
  review_id bigint unsigned NOT NULL AUTO_INCREMENT,
  created_at timestamp NOT NULL DEFAULT current_timestamp(),
  entity_id smallint unsigned NOT NULL DEFAULT 0,
  entity_pk_value int unsigned NOT NULL DEFAULT 0,
  status_id smallint unsigned NOT NULL DEFAULT 0,
  PRIMARY KEY (review_id),
  KEY REVIEW_ENTITY_ID (entity_id),
  KEY REVIEW_STATUS_ID (status_id),
  KEY REVIEW_ENTITY_PK_VALUE (entity_pk_value)
);
CREATE TABLE review_detail (
  detail_id bigint unsigned NOT NULL AUTO_INCREMENT,
  review_id bigint unsigned NOT NULL DEFAULT 0,
  store_id smallint unsigned DEFAULT 0,
  title varchar(255) NOT NULL,
  detail text NOT NULL,
  nickname varchar(128) NOT NULL,
  customer_id int unsigned DEFAULT NULL,
  PRIMARY KEY (detail_id),
  KEY REVIEW_DETAIL_REVIEW_ID (review_id),
  KEY REVIEW_DETAIL_CUSTOMER_ID (customer_id)
);
CREATE TABLE rating_option_vote (
  vote_id bigint unsigned NOT NULL AUTO_INCREMENT,
  option_id int unsigned NOT NULL DEFAULT 0,
  remote_ip varchar(16) NOT NULL,
  remote_ip_long bigint NOT NULL DEFAULT 0,
  customer_id int unsigned DEFAULT 0,
  entity_pk_value bigint unsigned NOT NULL DEFAULT 0,
  rating_id smallint unsigned NOT NULL DEFAULT 0,
  review_id bigint unsigned DEFAULT NULL,
  percent smallint NOT NULL DEFAULT 0,
  value smallint NOT NULL DEFAULT 0,
  PRIMARY KEY (vote_id),
  KEY RATING_OPTION_VOTE_OPTION_ID (option_id),
  KEY RATING_OPTION_VOTE_REVIEW_ID (review_id)
);
