# ActiveRecord 6.1 on ruby-pg (prepared statements, so values are bound on the
# server) runs the matrix's flows (../flows.json) through pgmoat and prints one
# JSON line per flow: {flow, ok, value | error, sqlstate, start, end}.
# Usage: ruby activerecord.rb STACK POSTGRES_URL
require "json"
require "bigdecimal"
require "active_record"

class Customer < ActiveRecord::Base
  has_many :orders
end

class Product < ActiveRecord::Base
end

class Order < ActiveRecord::Base
  belongs_to :customer
  has_many :items, -> { order(:id) }, class_name: "OrderItem"
end

class OrderItem < ActiveRecord::Base
  belongs_to :order
  belongs_to :product
end

MODELS = [Customer, Product, Order, OrderItem].freeze

# The SQLSTATE and message of the server's error behind ActiveRecord's wrapper.
def describe(err)
  e = err
  while e
    if e.is_a?(PG::Error) && e.result
      out = { sqlstate: e.result.error_field(PG::Result::PG_DIAG_SQLSTATE),
              error: e.result.error_field(PG::Result::PG_DIAG_MESSAGE_PRIMARY) }
      detail = e.result.error_field(PG::Result::PG_DIAG_MESSAGE_DETAIL)
      out[:detail] = detail if detail
      return out
    end
    e = e.cause
  end
  { sqlstate: nil, error: "#{err.class}: #{err.message}" }
end

# Runs work that must fail with sqlstate (and so roll back); returns the
# SQLSTATE, or re-raises whatever else went wrong (a pgmoat rejection included).
def fails_with(sqlstate)
  yield
  raise "expected SQLSTATE #{sqlstate}, but the work succeeded"
rescue ActiveRecord::StatementInvalid => e
  raise unless describe(e)[:sqlstate] == sqlstate
  sqlstate
end

def money(d)
  d.round(2).to_s("F").then { |s| s[/\.\d\z/] ? "#{s}0" : s }
end

class App
  def initialize(url, stack)
    @url = url
    @stack = stack
  end

  def introspection(**)
    ActiveRecord::Base.establish_connection("#{@url}?pool=1")
    ActiveRecord::Base.connection  # the type map is loaded on connect
    MODELS.each { |m| m.columns && m.primary_key }  # and each model's columns and key on first use
    true
  end

  def filter_paginate(country:, page_size:, page:)
    Customer.where(deleted_at: nil, country: country).order(created_at: :desc, id: :asc)
            .limit(page_size).offset((page - 1) * page_size).pluck(:id)
  end

  def get_by_id(id:)
    Customer.find(id).email
  end

  def search(term:)
    Customer.where(deleted_at: nil).where("name ILIKE ?", "%#{term}%").order(:id).pluck(:id)
  end

  def aggregate(**)
    Order.group(:status).order(:status).pluck(:status, Arel.sql("COUNT(*)"), Arel.sql("SUM(total)"))
         .map { |status, n, total| [status, n, money(total)] }
  end

  def join(customer_id:)
    Order.where(customer_id: customer_id).order(:id).includes(items: :product)
         .map { |o| [o.id, o.items.map { |i| [i.product.sku, i.quantity] }] }
  end

  def create(email_prefix:, name:, country:)
    Customer.create!(email: "#{email_prefix}#{@stack}@example.com", name: name, country: country).email
  end

  def update(id:, name:)
    Customer.find(id).update!(name: name)
    Customer.find(id).name
  end

  def soft_delete(id:)
    Customer.find(id).update!(deleted_at: Time.current)
    Customer.where(id: id, deleted_at: nil).exists?
  end

  def transaction(customer_id:, items:, missing_product_id:)
    place_order = lambda do |lines|
      ActiveRecord::Base.transaction do
        price = Product.where(id: lines.map(&:first)).to_h { |p| [p.id, p.price] }
        order = Order.create!(customer_id: customer_id, status: "open")
        total = lines.sum do |product_id, quantity|
          unit_price = price.fetch(product_id, BigDecimal("0"))
          OrderItem.create!(order_id: order.id, product_id: product_id, quantity: quantity, unit_price: unit_price)
          unit_price * quantity
        end
        order.update!(total: total)
      end
    end
    place_order.call(items)
    state = fails_with("23503") { place_order.call([[items[0][0], 1], [missing_product_id, 1]]) }
    { orders: Order.where(customer_id: customer_id).count, rolled_back_with: state }
  end

  def upsert(sku:, name:, price:)
    Product.upsert({ sku: sku, name: name, price: BigDecimal(price) }, unique_by: :sku)
    p = Product.find_by!(sku: sku)
    [p.name, money(p.price)]
  end
end

stack, url = ARGV
spec = JSON.parse(File.read(File.join(__dir__, "..", "flows.json")))
app = App.new(url, stack)
spec["flows"].each do |flow|
  start = Time.now.to_f
  line = begin
    args = (spec[flow] || {}).transform_keys(&:to_sym)
    { flow: flow, ok: true, value: app.public_send(flow, **args) }
  rescue StandardError => e
    { flow: flow, ok: false, **describe(e) }
  end
  line[:start] = start
  line[:end] = Time.now.to_f
  puts JSON.generate(line)
  $stdout.flush
end
ActiveRecord::Base.connection_pool.disconnect! if ActiveRecord::Base.connected?
