SELECT s.shipment_id, s.order_id, carrier FROM logistics.shipments s;
SELECT x.a FROM unknown_one x JOIN unknown_two y ON x.id = y.id WHERE b = 1;
