-- PrestaShop 8: what candor reads, nothing more (not the customers'
-- password hashes, not the configuration's other values' meaning)
GRANT SELECT ON prestashop.ps_orders TO 'candor'@'127.0.0.1';
GRANT SELECT (id_customer, firstname, lastname, email) ON prestashop.ps_customer TO 'candor'@'127.0.0.1';
GRANT SELECT (id_address, id_country) ON prestashop.ps_address TO 'candor'@'127.0.0.1';
GRANT SELECT (id_country, iso_code) ON prestashop.ps_country TO 'candor'@'127.0.0.1';
GRANT SELECT (id_lang, locale) ON prestashop.ps_lang TO 'candor'@'127.0.0.1';
GRANT SELECT (id_currency, iso_code) ON prestashop.ps_currency TO 'candor'@'127.0.0.1';
GRANT SELECT (id_order_detail, id_order, product_id, product_name, product_quantity, product_reference)
  ON prestashop.ps_order_detail TO 'candor'@'127.0.0.1';
GRANT SELECT (id_order, id_order_state, date_add) ON prestashop.ps_order_history TO 'candor'@'127.0.0.1';
GRANT SELECT (name, value) ON prestashop.ps_configuration TO 'candor'@'127.0.0.1';
GRANT SELECT (id_order, state) ON prestashop.ps_order_return TO 'candor'@'127.0.0.1';
GRANT SELECT (id_product_comment, id_product, id_customer, grade, content, deleted, date_add)
  ON prestashop.ps_product_comment TO 'candor'@'127.0.0.1';
