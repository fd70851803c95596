-- Demo orders, written the way a shop's own system may write them
-- (see "Database schema" in README.md). Times are Unix seconds, UTC.
INSERT OR REPLACE INTO orders (order_id, channel, customer_id, first_name, name,
  email, locale, country, timezone, items, total, currency, purchased, shipped,
  delivered, status) VALUES
 ('1001', 'web', 'c1', 'Anna', 'Anna Schmidt', 'anna@example.org', 'de-DE', 'DE',
  'Europe/Berlin', '[{"name":"Sencha 100 g","quantity":2}]', '18.00', 'EUR',
  unixepoch('now','-14 days'), unixepoch('now','-12 days'), unixepoch('now','-9 days'), 'delivered'),
 ('1002', 'web', 'c2', 'Wei', '王伟', 'wei@example.org', 'zh-Hans-CN', 'CN',
  'Asia/Shanghai', '[{"name":"Oolong 50 g","quantity":1}]', '12.50', 'EUR',
  unixepoch('now','-20 days'), unixepoch('now','-18 days'), unixepoch('now','-10 days'), 'delivered'),
 ('1003', 'amazon', 'c3', 'Sam', 'Sam "Tea" O''Brien', 'sam@example.org', 'en-US', 'US',
  'America/New_York', '[{"name":"Matcha tin","quantity":1,"sku":"B0TEA12345"}]', '24.00', 'USD',
  unixepoch('now','-11 days'), unixepoch('now','-10 days'), unixepoch('now','-8 days'), 'delivered'),
 -- delivered two days ago: not due yet (the campaign waits 7 days)
 ('1004', 'web', 'c4', 'Lena', 'Lena Novak', 'lena@example.org', 'en', 'AT',
  NULL, '[]', '9.90', 'EUR',
  unixepoch('now','-5 days'), unixepoch('now','-4 days'), unixepoch('now','-2 days'), 'delivered'),
 -- refunded: never asked for feedback
 ('1005', 'web', 'c5', 'Omar', 'Omar Haddad', 'omar@example.org', 'en', 'FR',
  NULL, '[]', '30.00', 'EUR',
  unixepoch('now','-15 days'), unixepoch('now','-14 days'), unixepoch('now','-10 days'), 'refunded'),
 -- left a one-star rating yesterday: gets the apology, and no review request
 ('1006', 'web', 'c6', 'Ivan', 'Иван Петров', 'ivan@example.org', 'ru-RU', 'RU',
  'Europe/Moscow', '[{"name":"Пуэр 100 г","quantity":1}]', '15.00', 'EUR',
  unixepoch('now','-12 days'), unixepoch('now','-11 days'), unixepoch('now','-8 days'), 'delivered'),
 ('1007', 'web', 'c7', 'Mei', '陳美', 'mei@example.org', 'zh-Hant-TW', 'TW',
  'Asia/Taipei', '[{"name":"Oolong 50 g","quantity":3}]', '30.00', 'EUR',
  unixepoch('now','-16 days'), unixepoch('now','-15 days'), unixepoch('now','-10 days'), 'delivered');

INSERT OR REPLACE INTO feedback (order_id, rating, comment, source, received) VALUES
 ('1006', 1, 'Посылка пришла через три недели, коробка была помята.', 'shop',
  unixepoch('now','-1 days'));
