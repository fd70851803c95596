-- PrestaShop 8's order, customer, state, configuration, return and
-- product comment tables, with the columns candor reads (types and
-- indexes as PrestaShop's install SQL declares them), prefix ps_.
CREATE TABLE ps_orders (
  id_order int(10) unsigned NOT NULL AUTO_INCREMENT,
  reference varchar(9),
  id_shop_group int(11) unsigned NOT NULL DEFAULT '1',
  id_shop int(11) unsigned NOT NULL DEFAULT '1',
  id_carrier int(10) unsigned NOT NULL DEFAULT 0,
  id_lang int(10) unsigned NOT NULL,
  id_customer int(10) unsigned NOT NULL,
  id_cart int(10) unsigned NOT NULL DEFAULT 0,
  id_currency int(10) unsigned NOT NULL,
  id_address_delivery int(10) unsigned NOT NULL,
  id_address_invoice int(10) unsigned NOT NULL,
  current_state int(10) unsigned NOT NULL,
  payment varchar(255) NOT NULL DEFAULT '',
  total_paid decimal(20,6) NOT NULL DEFAULT '0.00',
  valid tinyint(1) unsigned NOT NULL DEFAULT '0',
  date_add datetime NOT NULL,
  date_upd datetime NOT NULL,
  PRIMARY KEY (id_order),
  KEY reference (reference),
  KEY id_customer (id_customer),
  KEY id_cart (id_cart),
  KEY id_lang (id_lang),
  KEY id_currency (id_currency),
  KEY id_address_delivery (id_address_delivery),
  KEY current_state (current_state),
  KEY date_add (date_add)
) DEFAULT CHARSET=utf8mb4;
CREATE TABLE ps_customer (
  id_customer int(10) unsigned NOT NULL AUTO_INCREMENT,
  id_lang int(10) unsigned NULL,
  firstname varchar(255) NOT NULL,
  lastname varchar(255) NOT NULL,
  email varchar(255) NOT NULL,
  PRIMARY KEY (id_customer),
  KEY customer_email (email)
) DEFAULT CHARSET=utf8mb4;
CREATE TABLE ps_address (
  id_address int(10) unsigned NOT NULL AUTO_INCREMENT,
  id_country int(10) unsigned NOT NULL,
  id_customer int(10) unsigned NOT NULL DEFAULT '0',
  city varchar(64) NOT NULL DEFAULT '',
  PRIMARY KEY (id_address)
) DEFAULT CHARSET=utf8mb4;
CREATE TABLE ps_country (
  id_country int(10) unsigned NOT NULL AUTO_INCREMENT,
  iso_code varchar(3) NOT NULL,
  PRIMARY KEY (id_country)
) DEFAULT CHARSET=utf8mb4;
CREATE TABLE ps_lang (
  id_lang int(10) unsigned NOT NULL AUTO_INCREMENT,
  name varchar(32) NOT NULL,
  active tinyint(3) unsigned NOT NULL DEFAULT '0',
  iso_code char(2) NOT NULL,
  language_code char(5) NOT NULL,
  locale varchar(5) NOT NULL,
  PRIMARY KEY (id_lang)
) DEFAULT CHARSET=utf8mb4;
CREATE TABLE ps_currency (
  id_currency int(10) unsigned NOT NULL AUTO_INCREMENT,
  iso_code varchar(3) NOT NULL DEFAULT '0',
  PRIMARY KEY (id_currency)
) DEFAULT CHARSET=utf8mb4;
CREATE TABLE ps_order_detail (
  id_order_detail int(10) unsigned NOT NULL AUTO_INCREMENT,
  id_order int(10) unsigned NOT NULL,
  product_id int(10) unsigned NOT NULL,
  product_name text NOT NULL,
  product_quantity int(10) unsigned NOT NULL DEFAULT '0',
  product_reference varchar(64) DEFAULT NULL,
  PRIMARY KEY (id_order_detail),
  KEY order_detail_order (id_order),
  KEY product_id (product_id)
) DEFAULT CHARSET=utf8mb4;
CREATE TABLE ps_order_history (
  id_order_history int(10) unsigned NOT NULL AUTO_INCREMENT,
  id_employee int(10) unsigned NOT NULL DEFAULT 0,
  id_order int(10) unsigned NOT NULL,
  id_order_state int(10) unsigned NOT NULL,
  date_add datetime NOT NULL,
  PRIMARY KEY (id_order_history),
  KEY order_history_order (id_order),
  KEY id_order_state (id_order_state)
) DEFAULT CHARSET=utf8mb4;
CREATE TABLE ps_order_state (
  id_order_state int(10) unsigned NOT NULL AUTO_INCREMENT,
  shipped tinyint(1) unsigned NOT NULL DEFAULT '0',
  paid tinyint(1) unsigned NOT NULL DEFAULT '0',
  delivery tinyint(1) unsigned NOT NULL DEFAULT '0',
  deleted tinyint(1) unsigned NOT NULL DEFAULT '0',
  PRIMARY KEY (id_order_state)
) DEFAULT CHARSET=utf8mb4;
CREATE TABLE ps_configuration (
  id_configuration int(10) unsigned NOT NULL AUTO_INCREMENT,
  id_shop_group int(11) unsigned DEFAULT NULL,
  id_shop int(11) unsigned DEFAULT NULL,
  name varchar(254) NOT NULL,
  value text,
  date_add datetime NOT NULL,
  date_upd datetime NOT NULL,
  PRIMARY KEY (id_configuration),
  KEY name (name)
) DEFAULT CHARSET=utf8mb4;
CREATE TABLE ps_order_return (
  id_order_return int(10) unsigned NOT NULL AUTO_INCREMENT,
  id_customer int(10) unsigned NOT NULL,
  id_order int(10) unsigned NOT NULL,
  question text NOT NULL,
  state tinyint(1) unsigned NOT NULL DEFAULT '1',
  date_add datetime NOT NULL,
  date_upd datetime NOT NULL,
  PRIMARY KEY (id_order_return),
  KEY order_return_customer (id_customer),
  KEY id_order (id_order)
) DEFAULT CHARSET=utf8mb4;
CREATE TABLE ps_product_comment (
  id_product_comment int(10) unsigned NOT NULL AUTO_INCREMENT,
  id_product int(10) unsigned NOT NULL,
  id_customer int(10) unsigned NOT NULL,
  id_guest int(10) unsigned NULL,
  title varchar(64) NULL,
  content text NOT NULL,
  customer_name varchar(64) NULL,
  grade float unsigned NOT NULL,
  validate tinyint(1) NOT NULL,
  deleted tinyint(1) NOT NULL,
  date_add datetime NOT NULL,
  PRIMARY KEY (id_product_comment),
  KEY id_product (id_product),
  KEY id_customer (id_customer),
  KEY id_guest (id_guest)
) DEFAULT CHARSET=utf8mb4;
-- what PrestaShop's installer puts in: the default order states and the
-- configuration keys naming them, a language, a country, a currency
INSERT INTO ps_order_state (id_order_state, shipped, paid, delivery) VALUES
  (1,0,0,0),(2,0,1,0),(3,0,1,1),(4,1,1,1),(5,1,1,1),(6,0,0,0),(7,1,1,0),(8,0,0,0),
  (9,0,1,0),(10,0,0,0),(11,0,1,0),(12,0,0,0),(13,0,0,0);
INSERT INTO ps_configuration (name, value, date_add, date_upd) VALUES
  ('PS_OS_CHEQUE','1',NOW(),NOW()), ('PS_OS_PAYMENT','2',NOW(),NOW()),
  ('PS_OS_PREPARATION','3',NOW(),NOW()), ('PS_OS_SHIPPING','4',NOW(),NOW()),
  ('PS_OS_DELIVERED','5',NOW(),NOW()), ('PS_OS_CANCELED','6',NOW(),NOW()),
  ('PS_OS_REFUND','7',NOW(),NOW()), ('PS_OS_ERROR','8',NOW(),NOW()),
  ('PS_OS_OUTOFSTOCK','9',NOW(),NOW()), ('PS_OS_OUTOFSTOCK_PAID','9',NOW(),NOW()),
  ('PS_OS_BANKWIRE','10',NOW(),NOW()), ('PS_OS_WS_PAYMENT','11',NOW(),NOW()),
  ('PS_OS_OUTOFSTOCK_UNPAID','12',NOW(),NOW()), ('PS_OS_COD_VALIDATION','13',NOW(),NOW()),
  ('PS_LANG_DEFAULT','1',NOW(),NOW());
INSERT INTO ps_lang (id_lang, name, active, iso_code, language_code, locale) VALUES
  (1, 'Deutsch (German)', 1, 'de', 'de-de', 'de-DE'), (2, 'Français (French)', 1, 'fr', 'fr-fr', 'fr-FR');
INSERT INTO ps_country (id_country, iso_code) VALUES (1, 'DE'), (8, 'FR');
INSERT INTO ps_currency (id_currency, iso_code) VALUES (1, 'EUR');
