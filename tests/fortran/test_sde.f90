! Geometric Brownian motion dX = mu X dt + sigma X dW integrated from Fortran callbacks.
! Oracles: (1) the library's built-in "gbm" model driven by the same seed and scheme (the
! Fortran callbacks compute the same products, so the paths must agree to 1e-12, and are in
! fact bit-identical); (2) the closed-form mean E X(t) = x0 exp(mu t), within 4 standard
! errors of the ensemble mean; (3) the mean of the stored ensemble paths, computed here,
! for latens_sde_ensemble_summary; (4) the library's contract that ensembles do not depend
! on the thread count, with the Fortran callbacks running on two threads.
module test_sde_models
  use, intrinsic :: iso_c_binding
  implicit none
  ! User data handed to the bind(c) callbacks through a c_ptr.
  type, bind(c) :: gbm_params
     real(c_double) :: mu, sigma
  end type gbm_params
contains
  ! Fortran-style callbacks (assumed shape, class(*) data unused: theta holds mu, sigma).
  subroutine gbm_drift(t, x, theta, f, data, stat)
    real(c_double), intent(in) :: t, x(:), theta(:)
    real(c_double), intent(out) :: f(:)
    class(*), intent(in) :: data
    integer, intent(inout) :: stat
    f(1) = theta(1) * x(1)
  end subroutine gbm_drift
  subroutine gbm_diffusion(t, x, theta, g, data, stat)
    real(c_double), intent(in) :: t, x(:), theta(:)
    real(c_double), intent(out) :: g(:)
    class(*), intent(in) :: data
    integer, intent(inout) :: stat
    g(1) = theta(2) * x(1)
  end subroutine gbm_diffusion
  ! C-signature callbacks: the parameters come from the user pointer instead of theta.
  integer(c_int) function gbm_drift_c(t, x, theta, user, f) bind(c)
    real(c_double), value :: t
    real(c_double), intent(in) :: x(*), theta(*)
    type(c_ptr), value :: user
    real(c_double), intent(inout) :: f(*)
    type(gbm_params), pointer :: p
    call c_f_pointer(user, p)
    f(1) = p%mu * x(1)
    gbm_drift_c = 0
  end function gbm_drift_c
  integer(c_int) function gbm_diffusion_c(t, x, theta, user, g) bind(c)
    real(c_double), value :: t
    real(c_double), intent(in) :: x(*), theta(*)
    type(c_ptr), value :: user
    real(c_double), intent(inout) :: g(*)
    type(gbm_params), pointer :: p
    call c_f_pointer(user, p)
    g(1) = p%sigma * x(1)
    gbm_diffusion_c = 0
  end function gbm_diffusion_c
end module test_sde_models

program test_sde
  use, intrinsic :: iso_c_binding
  use latens
  use test_sde_models
  implicit none
  real(c_double), parameter :: mu = 1.01d0, sigma = 0.87d0, x0 = 0.5d0
  integer, parameter :: nt = 5, npaths = 400, nbig = 20000
  integer(c_int64_t), parameter :: seed = 20261128_c_int64_t
  type(latens_sde_model) :: builtin, fmodel, cmodel
  type(latens_sde_options) :: opt
  type(gbm_params), target :: params
  type(latens_rng) :: r1, r2
  type(c_funptr) :: fdrift, fdiff
  real(c_double) :: t(nt), xb(1, nt, npaths), xf(1, nt, npaths), xc(1, nt, npaths)
  real(c_double) :: pb(1, nt), pf(1, nt), mean(1, nt), var(1, nt), mean_paths, diff
  real(c_double) :: exact, se
  integer :: k, failures
  failures = 0
  t = [(0.25d0 * k, k = 0, nt - 1)]
  opt = latens_sde_options_default()
  opt%dt = 1d-3

  call builtin%builtin('gbm', [mu, sigma])
  call fmodel%create(d=1, m=1, noise=LATENS_SDE_NOISE_DIAGONAL, ntheta=2)
  call fmodel%set_param(1, 'mu', mu)
  call fmodel%set_param(2, 'sigma', sigma, lo=0d0)
  call fmodel%set_x0([x0])
  call fmodel%set_callbacks(gbm_drift, gbm_diffusion)
  params = gbm_params(mu, sigma)
  call cmodel%create(d=1, m=1, noise=LATENS_SDE_NOISE_DIAGONAL, ntheta=0)
  call cmodel%set_x0([x0])
  ! c_funloc into variables first: gfortran 12 puts a c_funloc passed directly as an
  ! argument in a read-only constant with an absolute relocation (a text relocation in PIE).
  fdrift = c_funloc(gbm_drift_c)
  fdiff = c_funloc(gbm_diffusion_c)
  call cmodel%set_callbacks_c(fdrift, fdiff, c_loc(params))

  ! (1) same seed and scheme: Fortran callback paths equal the built-in's.
  do k = 1, 2
     if (k == 2) opt%scheme = LATENS_SDE_SRI
     call latens_sde_ensemble(builtin, t, seed, xb, opt)
     call latens_sde_ensemble(fmodel, t, seed, xf, opt)
     call latens_sde_ensemble(cmodel, t, seed, xc, opt)
     diff = max(maxval(abs(xf - xb) / max(1d0, abs(xb))), maxval(abs(xc - xb) / max(1d0, abs(xb))))
     print '(a,a,a,i0,a,es10.3)', 'ensemble ', trim(merge('em ', 'sri', k == 1)), &
          ': Fortran callbacks vs built-in gbm over ', npaths, ' paths, max rel diff ', diff
     call check(diff <= 1d-12, 'callback paths equal the built-in paths')
  end do
  ! Thread count: one thread gives the same Fortran-callback paths as two.
  opt%threads = 1
  call latens_sde_ensemble(fmodel, t, seed, xc, opt)
  opt%threads = 2
  call latens_sde_ensemble(fmodel, t, seed, xf, opt)
  opt%threads = 0
  print '(a,es10.3)', 'callback ensemble, 1 vs 2 threads: max |diff| ', maxval(abs(xc - xf))
  call check(all(xc == xf), 'callback ensemble independent of the thread count')
  ! The fast streams (opt%rng, the last field of the bind(c) options, so this also checks the
  ! layout): built-in and Fortran-callback paths agree, and differ from the Philox ones.
  opt%rng = LATENS_SDE_RNG_FAST
  call latens_sde_ensemble(builtin, t, seed, xb, opt)
  call latens_sde_ensemble(fmodel, t, seed, xf, opt)
  opt%rng = LATENS_SDE_RNG_PHILOX
  call latens_sde_ensemble(builtin, t, seed, xc, opt)
  diff = maxval(abs(xf - xb) / max(1d0, abs(xb)))
  print '(a,es10.3)', 'rng fast: Fortran callbacks vs built-in gbm, max rel diff ', diff
  call check(diff <= 1d-12 .and. any(xb /= xc), 'fast-stream paths agree and differ from Philox')
  opt%scheme = LATENS_SDE_EM
  call r1%init(7_c_int64_t, 3_c_int64_t)
  call r2%init(7_c_int64_t, 3_c_int64_t)
  call latens_sde_solve(builtin, t, pb, r1, opt)
  call latens_sde_solve(fmodel, t, pf, r2, opt)
  print '(a,es10.3)', 'single solve, same stream: max |diff| ', maxval(abs(pf - pb))
  call check(maxval(abs(pf - pb)) <= 1d-12 * maxval(abs(pb)), 'single paths agree')

  ! (3) summary statistics vs the mean of the stored paths (same seed -> same paths).
  call latens_sde_ensemble_summary(fmodel, t, npaths, seed, mean=mean, var=var, opt=opt)
  call latens_sde_ensemble(fmodel, t, seed, xf, opt)
  mean_paths = sum(xf(1, nt, :)) / npaths
  print '(a,es23.15,a,es23.15)', 'summary mean at t=1 ', mean(1, nt), ' vs path average ', mean_paths
  call check(abs(mean(1, nt) - mean_paths) <= 1d-12 * abs(mean_paths), 'summary mean = path mean')

  ! (2) analytic mean within 4 standard errors over a large ensemble.
  call latens_sde_ensemble_summary(fmodel, t, nbig, seed + 1, mean=mean, var=var, opt=opt)
  exact = x0 * exp(mu * t(nt))
  se = sqrt(var(1, nt) / nbig)
  print '(a,i0,a,f9.5,a,f9.5,a,f7.5,a,f6.2)', 'E X(1) over ', nbig, ' paths: ', mean(1, nt), &
       ' analytic ', exact, ' se ', se, ' z ', (mean(1, nt) - exact) / se
  call check(abs(mean(1, nt) - exact) <= 4 * se, 'ensemble mean within 4 se of x0 exp(mu t)')

  if (failures > 0) error stop 'test_sde: failures'
  print '(a)', 'test_sde: all checks passed'
contains
  include 'check.inc'
end program test_sde
