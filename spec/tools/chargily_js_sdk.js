// Every method of the official JS SDK (@chargily/chargily-pay 2.1.0) against the mock on loopback.
const { ChargilyClient } = require(process.env.CHARGILY_SDK || '@chargily/chargily-pay');
const c = new ChargilyClient({ api_key: 'test_sk_conformance', mode: 'test' });
c.base_url = process.argv[2];
const results = [];
async function step(name, f) {
  try { const r = await f(); results.push([name, 'ok']); return r; }
  catch (e) { results.push([name, 'FAILED: ' + e.message]); return null; }
}
(async () => {
  await step('getBalance', () => c.getBalance());
  const cus = await step('createCustomer', () => c.createCustomer({ name: 'Amina', email: 'a@example.dz', address: { country: 'dz', state: 'Alger', address: '5 rue' } }));
  await step('updateCustomer (PATCH)', async () => { const u = await c.updateCustomer(cus.id, { phone: '+213550000001' }); if (u.phone !== '+213550000001') throw new Error('phone not updated'); return u; });
  await step('getCustomer', () => c.getCustomer(cus.id));
  await step('listCustomers', () => c.listCustomers(10));
  const prod = await step('createProduct', () => c.createProduct({ name: 'Rug' }));
  await step('updateProduct', () => c.updateProduct(prod.id, { description: 'Wool' }));
  await step('getProduct', () => c.getProduct(prod.id));
  await step('listProducts', () => c.listProducts());
  const price = await step('createPrice', () => c.createPrice({ amount: 900, currency: 'dzd', product_id: prod.id, metadata: { unit: 'kg' } }));
  await step('updatePrice', () => c.updatePrice(price.id, { metadata: { unit: 'g' } }));
  await step('getPrice', () => c.getPrice(price.id));
  await step('listPrices', () => c.listPrices());
  await step('getProductPrices', () => c.getProductPrices(prod.id));
  const co = await step('createCheckout', () => c.createCheckout({ items: [{ price: price.id, quantity: 2 }], success_url: 'https://merchant.example/ok' }));
  await step('getCheckout', () => c.getCheckout(co.id));
  await step('listCheckouts', () => c.listCheckouts());
  await step('getCheckoutItems', () => c.getCheckoutItems(co.id));
  await step('expireCheckout', () => c.expireCheckout(co.id));
  const pl = await step('createPaymentLink', () => c.createPaymentLink({ name: 'Link', items: [{ price: price.id, quantity: 1 }] }));
  await step('updatePaymentLink', () => c.updatePaymentLink(pl.id, { name: 'Link 2' }));
  await step('getPaymentLink', () => c.getPaymentLink(pl.id));
  await step('listPaymentLinks', () => c.listPaymentLinks());
  await step('getPaymentLinkItems', () => c.getPaymentLinkItems(pl.id));
  await step('deleteCustomer', () => c.deleteCustomer(cus.id));
  for (const [n, r] of results) console.log(n.padEnd(24), r);
  console.log(results.filter(r => r[1] === 'ok').length + '/' + results.length + ' ok');
})();
