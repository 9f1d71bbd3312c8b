"""The read model's work tables: what one change (an import's increment, a deleted import taken out,
a rebuild) holds between its statements, per customer (see analytics.warehouse.statements).

They were temporary tables. They are ordinary tables now, unlogged (nothing in them outlives the
change's transaction: each change empties them first and last), so that a Citus cluster can
distribute them by customer beside the tables they change, and every statement of a change runs on
the workers. The same tables serve a single server.
"""

from django.db import migrations

_TRANSACTION = """
    customer_id bigint NOT NULL, date date NOT NULL, store_id bigint NOT NULL, invoice_no varchar(100) NOT NULL,
    purchase_category_ids bigint[] NOT NULL, part_category_ids bigint[] NOT NULL,
    part_payment_method_ids bigint[] NOT NULL, part_net_amounts numeric(18,2)[] NOT NULL,
    part_purchase_lines integer[] NOT NULL, part_lines integer[] NOT NULL, net_amount numeric(18,2) NOT NULL,
    purchase_net numeric(18,2) NOT NULL, lines integer NOT NULL, purchase_lines integer NOT NULL,
    cost_lines integer NOT NULL, cost numeric(18,2), net_with_cost numeric(18,2)
"""

FORWARD = f"""
CREATE UNLOGGED TABLE analytics_wh_parts (
    customer_id bigint NOT NULL, date date NOT NULL, store_id bigint NOT NULL, invoice_no varchar(100) NOT NULL,
    category_id bigint NOT NULL, payment_method_id bigint NOT NULL, gross numeric, discount numeric, net numeric,
    purchase_net numeric, cost numeric, cost_lines bigint, units bigint, lines bigint, purchase_lines bigint,
    return_lines bigint, purchase_cost_lines bigint, purchase_cost numeric, purchase_net_with_cost numeric
);
CREATE UNLOGGED TABLE analytics_wh_old ({_TRANSACTION});
CREATE UNLOGGED TABLE analytics_wh_new (
    customer_id bigint NOT NULL, date date NOT NULL, store_id bigint NOT NULL, invoice_no varchar(100) NOT NULL,
    purchase_category_ids bigint[], part_category_ids bigint[], part_payment_method_ids bigint[],
    part_net_amounts numeric[], part_purchase_lines integer[], part_lines integer[], net_amount numeric,
    purchase_net numeric, lines integer, purchase_lines integer, cost_lines integer, cost numeric,
    net_with_cost numeric
);
CREATE UNLOGGED TABLE analytics_wh_customers (customer_id bigint NOT NULL, how text NOT NULL);
CREATE UNLOGGED TABLE analytics_wh_appended (
    customer_id bigint NOT NULL, transactions bigint, purchase_transactions bigint, purchase_days bigint,
    last_date date, first_purchase_date date, last_purchase_date date, first_store_id bigint,
    first_category_ids bigint[], purchase_store_ids bigint[], net numeric, purchase_net numeric, cost_lines bigint, cost numeric,
    net_with_cost numeric, category_ids bigint[], category_nets numeric[], history bytea
);
CREATE UNLOGGED TABLE analytics_wh_recompute ({_TRANSACTION});
"""

BACKWARD = """
DROP TABLE analytics_wh_parts, analytics_wh_old, analytics_wh_new, analytics_wh_customers, analytics_wh_appended,
    analytics_wh_recompute;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0015_line_keys_with_customer"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
