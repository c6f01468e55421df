import Router from '@koa/router';
import { render } from '../render.js';

export function homeRouter(): Router {
  const router = new Router();
  router.get('/', (ctx) => render(ctx, 'home', { title: ctx.state.t('home.title_page') }));
  router.get('/healthz', (ctx) => {
    ctx.set('cache-control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  return router;
}
