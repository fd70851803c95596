-- Magento 2: what candor reads, nothing more
GRANT SELECT ON magento.sales_order TO 'candor'@'127.0.0.1';
GRANT SELECT (entity_id, parent_id, address_type, firstname, lastname, country_id)
  ON magento.sales_order_address TO 'candor'@'127.0.0.1';
GRANT SELECT (item_id, order_id, parent_item_id, product_id, sku, name, qty_ordered)
  ON magento.sales_order_item TO 'candor'@'127.0.0.1';
GRANT SELECT (entity_id, order_id, created_at) ON magento.sales_shipment TO 'candor'@'127.0.0.1';
GRANT SELECT (scope, scope_id, path, value) ON magento.core_config_data TO 'candor'@'127.0.0.1';
GRANT SELECT ON magento.review TO 'candor'@'127.0.0.1';
GRANT SELECT ON magento.review_entity TO 'candor'@'127.0.0.1';
GRANT SELECT (review_id, detail, customer_id) ON magento.review_detail TO 'candor'@'127.0.0.1';
GRANT SELECT (review_id, value) ON magento.rating_option_vote TO 'candor'@'127.0.0.1';
