import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeTestApp } from '../../test/helpers/gateway-app.ts';
import { listen } from '../../test/helpers/pipeline.ts';

/**
 * /docs over a real HTTP server, fetched as a browser would: the page, then
 * every stylesheet and script it names, from this server, with the content
 * types a browser needs to apply them; the page points Swagger UI at
 * /openapi.json, which is served. Nothing it loads comes from another host.
 * Before this change /docs was a 404.
 */
describe('GET /docs', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    server = await listen(routeTestApp().app);
  });
  afterAll(async () => server?.close());

  const page = async () => {
    const res = await fetch(`${server.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    return res.text();
  };
  const attributes = (html: string, tag: string, attr: string) => [...html.matchAll(new RegExp(`<${tag}\\b[^>]*\\b${attr}="([^"]+)"`, 'g'))].map((m) => m[1]!);

  it('is an HTML page that starts Swagger UI on /openapi.json, with no key', async () => {
    const html = await page();
    expect(html).toContain('<div id="swagger-ui"></div>');
    expect(html).toMatch(/SwaggerUIBundle\(\{[\s\S]*url: '\/openapi\.json'/);
    const spec = await fetch(`${server.url}/openapi.json`);
    expect(spec.status).toBe(200);
    expect(((await spec.json()) as { paths: Record<string, unknown> }).paths).toHaveProperty('/v1/statistics/overview');
  });

  it('loads its stylesheet and script from this server, with the right content types', async () => {
    const html = await page();
    const css = attributes(html, 'link', 'href');
    const js = attributes(html, 'script', 'src');
    expect(css).toEqual(['/docs/swagger-ui-dist/swagger-ui.css']);
    expect(js).toEqual(['/docs/swagger-ui-dist/swagger-ui-bundle.js']);
    // Nothing from another host: no absolute URL anywhere in the page (the CDN is @hono/swagger-ui's default).
    expect(html).not.toMatch(/https?:\/\//);
    // …and no validator badge calling out to validator.swagger.io.
    expect(html).toContain("validatorUrl: 'none'");

    const style = await fetch(new URL(css[0]!, server.url));
    expect(style.status).toBe(200);
    expect(style.headers.get('content-type')).toMatch(/^text\/css/);
    expect(await style.text()).toContain('.swagger-ui');

    const script = await fetch(new URL(js[0]!, server.url));
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    // The global the page's inline script calls.
    expect(await script.text()).toContain('SwaggerUIBundle');
  });
});
