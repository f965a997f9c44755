! Integrate your own SDE with latens' solvers: geometric Brownian motion
! dX = mu X dt + sigma X dW written as two Fortran subroutines, an ensemble of 10,000 paths
! summarised at five times (mean, variance, 5% and 95% quantiles), beside the exact mean
! x0 exp(mu t).  Build against an installed latens:
!   gfortran -I$(pkg-config --variable=includedir latens)/latens gbm_callback.f90 \
!     -L$(pkg-config --variable=libdir latens) -llatens_fortran $(pkg-config --libs latens)
module gbm_model
  use latens, only: latens_dp
  implicit none
  ! Any data the callbacks need travels as class(*): here the two rates.
  type :: gbm_rates
     real(latens_dp) :: mu, sigma
  end type gbm_rates
contains
  subroutine drift(t, x, theta, f, data, stat)
    real(latens_dp), intent(in) :: t, x(:), theta(:)
    real(latens_dp), intent(out) :: f(:)
    class(*), intent(in) :: data
    integer, intent(inout) :: stat
    select type (data)
    type is (gbm_rates)
       f(1) = data%mu * x(1)
    class default
       stat = 1 ! wrong data: stop the solver
    end select
  end subroutine drift
  subroutine diffusion(t, x, theta, g, data, stat)
    real(latens_dp), intent(in) :: t, x(:), theta(:)
    real(latens_dp), intent(out) :: g(:)
    class(*), intent(in) :: data
    integer, intent(inout) :: stat
    select type (data)
    type is (gbm_rates)
       g(1) = data%sigma * x(1)
    class default
       stat = 1
    end select
  end subroutine diffusion
end module gbm_model

program gbm_callback
  use, intrinsic :: iso_fortran_env, only: int64
  use latens
  use gbm_model
  implicit none
  integer, parameter :: npaths = 10000
  type(latens_sde_model) :: model
  type(latens_sde_options) :: opt
  type(gbm_rates) :: rates
  real(latens_dp) :: t(5), mean(1, 5), var(1, 5), q(1, 2, 5)
  integer :: k

  rates = gbm_rates(mu=0.5_latens_dp, sigma=0.3_latens_dp)
  call model%create(d=1, m=1, noise=LATENS_SDE_NOISE_DIAGONAL, ntheta=0)
  call model%set_x0([1.0_latens_dp])
  call model%set_callbacks(drift, diffusion, data=rates)

  opt = latens_sde_options_default()
  opt%scheme = LATENS_SDE_SRI   ! strong order 1.5
  opt%dt = 1e-2_latens_dp
  t = [(0.5_latens_dp * k, k = 0, 4)]
  call latens_sde_ensemble_summary(model, t, npaths, 42_int64, mean=mean, var=var, &
       prob=[0.05_latens_dp, 0.95_latens_dp], quant=q, opt=opt)

  print '(a,i0,a)', 'GBM from Fortran callbacks, ', npaths, ' paths (SRI, dt 0.01):'
  print '(a6,4a12)', 't', 'mean', 'exact mean', 'q05', 'q95'
  do k = 1, size(t)
     print '(f6.2,4f12.5)', t(k), mean(1, k), exp(rates%mu * t(k)), q(1, 1, k), q(1, 2, k)
  end do
  ! Four standard errors: a wrong solver or callback would be far outside.
  if (abs(mean(1, 5) - exp(rates%mu * t(5))) > 4 * sqrt(var(1, 5) / npaths)) &
       error stop 'gbm_callback: mean at t = 2 is off'
end program gbm_callback
