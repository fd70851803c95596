-- WooCommerce (posts and postmeta): what candor reads, nothing more
GRANT SELECT (ID, post_type, post_status, post_date_gmt, post_modified_gmt)
  ON wordpress.wp_posts TO 'candor'@'127.0.0.1';
GRANT SELECT ON wordpress.wp_postmeta TO 'candor'@'127.0.0.1';
GRANT SELECT ON wordpress.wp_woocommerce_order_items TO 'candor'@'127.0.0.1';
GRANT SELECT ON wordpress.wp_woocommerce_order_itemmeta TO 'candor'@'127.0.0.1';
GRANT SELECT (comment_ID, comment_post_ID, comment_author_email, comment_date_gmt, comment_content,
  comment_approved, user_id) ON wordpress.wp_comments TO 'candor'@'127.0.0.1';
GRANT SELECT ON wordpress.wp_commentmeta TO 'candor'@'127.0.0.1';
