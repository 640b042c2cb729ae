"""Registering released products for use or sale, their prices, and withdrawing them.

A product is registered from a release of the operator's organization (Art. 27), in one of the
policy's categories: a public-governance or public-welfare product is used free of charge, any
other is sold at a price the operator proposes with its cost basis and an administrator
approves (government-guided pricing, Art. 29). Every price ever approved stays on record: the
charging standard's history the annual report's fee changes are read from."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog import names
from catalog.models import utcnow
from commerce import events
from commerce.errors import CommerceConflict, InvalidCommerce, ProductNotFound
from commerce.models import PriceProposal, Product
from commerce.states import ProductStatus, ProposalStatus
from egress.checks import datasets_read
from egress.models import Release
from lineage import append
from policies import Actor, Policy, Role
from policies.permissions import Action, permit
from sandbox.models import Job


def register(session: Session, actor: Actor, policy: Policy, release_id: int, category: str,
             description: str, price_unit: str, price_cents: int | None = None,
             basis: str = "") -> Product:
    """Register a release of the actor's organization as a product; a commercial one with
    its proposed price and cost basis, on sale once an administrator approves the price."""
    permit(actor, Action.PRODUCT_LIST)
    rules = policy.commerce
    release = session.get(Release, release_id)
    if release is None or release.request.org != actor.org:
        raise ProductNotFound("no release {id} of your organization", id=release_id)
    clash = session.scalar(select(Product.id).where(Product.release_id == release.id))
    if clash is not None:
        raise CommerceConflict("release {release} is already product {id}",
                               release=release.id, id=clash)
    if category not in rules.categories:
        raise InvalidCommerce("a product's category is one of {choices}, not {value!r}",
                              choices=", ".join(rules.categories), value=str(category)[:40])
    if price_unit not in rules.price_units:
        raise InvalidCommerce("a price is per one of {choices}, not {value!r}",
                              choices=", ".join(rules.price_units), value=str(price_unit)[:40])
    description = names.text(description, "description", policy.text.long_length,
                             multiline=True)
    free = category in rules.free_categories
    if free and (price_cents or basis):
        raise InvalidCommerce("a {category} product is used free of charge: give it no price",
                              category=category)
    if not free:
        _price(price_cents, policy)
        basis = names.text(basis, "cost basis of the price", policy.text.long_length,
                           multiline=True)
    job = session.get(Job, release.request.job_id)
    sources = sorted(datasets_read(session, job))
    product = Product(release_id=release.id, product_no=release.product_no,
                      name=release.request.product, org=actor.org, category=category,
                      free=free, description=description, sources=",".join(sources),
                      price_cents=None, price_unit=price_unit, status=ProductStatus.LISTED,
                      listed_by=actor.id, proposals=[])
    session.add(product)
    session.flush()
    append(session, actor, events.PRODUCT_LISTED, f"product:{product.id}",
           {"release_id": release.id, "product_no": product.product_no, "org": product.org,
            "category": category, "free": free, "price_unit": price_unit, "sources": sources,
            "grant_id": release.request.grant_id})
    if not free:
        _propose(session, actor, product, price_cents, basis)
    return product


def _price(price_cents: int | None, policy: Policy) -> int:
    if price_cents is None or isinstance(price_cents, bool) or not isinstance(price_cents, int) \
            or price_cents <= 0:
        raise InvalidCommerce("a commercial product needs a price above zero")
    if price_cents > policy.commerce.largest_amount:
        raise InvalidCommerce("a price is at most {largest} hundredths",
                              largest=policy.commerce.largest_amount)
    return price_cents


def _propose(session: Session, actor: Actor, product: Product, price_cents: int,
             basis: str) -> PriceProposal:
    proposal = PriceProposal(product=product, price_cents=price_cents,
                             previous_cents=product.price_cents, basis=basis,
                             status=ProposalStatus.PENDING, proposed_by=actor.id, note="")
    session.add(proposal)
    session.flush()
    append(session, actor, events.PRICE_PROPOSED, f"product:{product.id}",
           {"proposal_id": proposal.id, "price_cents": price_cents,
            "previous_cents": product.price_cents, "basis_chars": len(basis)})
    return proposal


def propose_price(session: Session, actor: Actor, policy: Policy, product_id: int,
                  price_cents: int, basis: str) -> Product:
    """A new price for a commercial product of the actor's organization; the one in force
    stays until an administrator approves it."""
    permit(actor, Action.PRODUCT_LIST)
    product = get(session, actor, product_id)
    if product.org != actor.org:
        raise ProductNotFound("no product {id}", id=product_id)
    if product.free:
        raise InvalidCommerce("product {id} is used free of charge: it has no price",
                              id=product.id)
    if product.status != ProductStatus.LISTED:
        raise CommerceConflict("product {id} is withdrawn", id=product.id)
    if product.pending() is not None:
        raise CommerceConflict("product {id} already has a price awaiting approval",
                               id=product.id)
    _price(price_cents, policy)
    if price_cents == product.price_cents:
        raise InvalidCommerce("{price} hundredths is the price in force already",
                              price=price_cents)
    basis = names.text(basis, "cost basis of the price", policy.text.long_length,
                       multiline=True)
    _propose(session, actor, product, price_cents, basis)
    return product


def decide_price(session: Session, actor: Actor, policy: Policy, product_id: int,
                 approve: bool, note: str) -> Product:
    """Approve (it is in force from now) or reject a product's proposed price, with reasons."""
    permit(actor, Action.PRODUCT_PRICE)
    product = get(session, actor, product_id)
    proposal = product.pending()
    if proposal is None:
        raise CommerceConflict("product {id} has no price awaiting approval", id=product.id)
    note = names.text(note, "note", policy.text.long_length, multiline=True,
                      required=not approve)
    proposal.status = ProposalStatus.APPROVED if approve else ProposalStatus.REJECTED
    proposal.decided_by, proposal.decided_at, proposal.note = actor.id, utcnow(), note
    if approve:
        product.price_cents = proposal.price_cents
    append(session, actor, events.PRICE_APPROVED if approve else events.PRICE_REJECTED,
           f"product:{product.id}",
           {"proposal_id": proposal.id, "price_cents": proposal.price_cents,
            "previous_cents": proposal.previous_cents, "note_chars": len(note)})
    return product


def withdraw(session: Session, actor: Actor, product_id: int) -> Product:
    """No longer offer a product (its operator or an administrator); its books stay."""
    permit(actor, Action.PRODUCT_WITHDRAW)
    product = get(session, actor, product_id)
    if actor.role != Role.ADMIN and product.org != actor.org:
        raise ProductNotFound("no product {id}", id=product_id)
    if product.status == ProductStatus.WITHDRAWN:
        raise CommerceConflict("product {id} is withdrawn already", id=product.id)
    product.status, product.withdrawn_at = ProductStatus.WITHDRAWN, utcnow()
    for proposal in product.proposals:
        if proposal.status == ProposalStatus.PENDING:
            proposal.status, proposal.decided_at = ProposalStatus.REJECTED, product.withdrawn_at
            proposal.note = "withdrawn"
    append(session, actor, events.PRODUCT_WITHDRAWN, f"product:{product.id}",
           {"product_no": product.product_no})
    return product


def get(session: Session, actor: Actor, product_id: int) -> Product:
    """The product, if ``actor`` may see it: merchants their organization's, reviewers,
    administrators and the regulator any."""
    permit(actor, Action.PRODUCT_READ)
    product = session.get(Product, product_id)
    if product is None or (actor.role == Role.MERCHANT and product.org != actor.org):
        raise ProductNotFound("no product {id}", id=product_id)
    return product


def search(session: Session, actor: Actor, status: str | None = None,
           pending: bool = False) -> list[Product]:
    """Products the actor may see, newest first; ``pending``: those with a price awaiting
    approval (the administrators' queue)."""
    permit(actor, Action.PRODUCT_READ)
    query = select(Product).options(selectinload(Product.proposals)).order_by(Product.id.desc())
    if actor.role == Role.MERCHANT:
        query = query.where(Product.org == actor.org)
    if status:
        query = query.where(Product.status == status)
    if pending:
        query = query.where(Product.id.in_(select(PriceProposal.product_id).where(
            PriceProposal.status == ProposalStatus.PENDING)))
    return list(session.scalars(query))


def offered(session: Session) -> list[Product]:
    """The public list of products and their charging standards (Art. 35): listed products,
    free or at an approved price."""
    query = (select(Product).where(Product.status == ProductStatus.LISTED)
             .where(Product.free | Product.price_cents.is_not(None))
             .order_by(Product.category, Product.product_no))
    return list(session.scalars(query))


def awaiting_price(session: Session) -> int:
    """Proposed prices awaiting an administrator: the to-do count."""
    return len(session.scalars(select(PriceProposal.id).where(
        PriceProposal.status == ProposalStatus.PENDING)).all())
